# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 13: does the producer's proxy fence wait for its in-flight window loads? (timing only)
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -2
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd $R/scripts
for probe in fence nofence; do
GEMM_CONVT_WGMMA_PROBE=$probe timeout 150 python3 probe_speed.py --problems kb69,kb57 --dtypes fp32,tf32 2>&1 | grep -v "^ *$\|arn" | sed "s/^/$probe /"
done
echo seconds=$SECONDS
