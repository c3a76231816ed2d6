# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 12: the producer keeps three steps of window loads in flight.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp && timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "wgmma or infinities or largest" 2>&1 | tail -4
echo "tests done at ${SECONDS}s"
cd $R/scripts
for st in 3 2; do
GEMM_CONVT_WGMMA_STAGES=$st timeout 150 python3 probe_speed.py --problems kb69,kb57,kb65 --dtypes fp32,tf32 --profile 2>&1 | grep -v "^ *$\|arn" | grep -v "pack_weight\|implicit_gemm_kernel" | sed "s/^/stages=$st /"
done
GEMM_CONVT_WGMMA=0 timeout 150 python3 probe_speed.py --problems kb69,kb57,kb65 --dtypes fp32,tf32 2>&1 | grep -v "^ *$\|arn" | sed "s/^/wgmma=0 /"
echo seconds=$SECONDS
