# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 38, call 5: is the 64 MiB workspace cap what holds dcgan's split GEMM at ~180 TFLOP/s
# (14 chunks of 9 samples, 72 tiles a launch)? The strict-geomean's low problems at caps of
# 64-1024 MiB, fp32 default, with kernel sums.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for ws in 64 128 256 1024; do
  echo "== workspace $ws MiB at ${SECONDS}s"
  timeout 60 python3 probe_speed.py --problems dcgan,fcn_up,kb65,kb69 --dtypes fp32 --workspace $ws --profile 2>&1 \
    | grep -v "arn\|^ *$" | cut -c1-150
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
