# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 18: training (forward + backward) of the stride-1 problems with the wgmma
# kernel on and off, then the float16 and bfloat16 suite benches (not run on an H100 since session 24).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -1
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd $R/scripts
for v in 1 0; do
  GEMM_CONVT_WGMMA=$v timeout 100 python3 probe_speed.py --problems kb69,kb65,kb57 --dtypes fp32,tf32 --train \
    $( [ $v = 1 ] && echo --cudnn ) 2>&1 | grep -v "^ *$\|arn" | sed "s/^/wgmma=$v /"
done
for dt in float16 bfloat16; do
  left=$((570 - SECONDS)); [ $left -gt 40 ] || break
  (cd /tmp && timeout $left python3 -m gemm_convt.bench --suite --dtype $dt --warmup 3 --iters 20 \
    --json $OUT/bench_$dt.json > $OUT/bench_$dt.log 2>&1; echo "bench $dt rc=$? at ${SECONDS}s")
done
echo seconds=$SECONDS
