# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 42, call 6: where dcgan strict's split GEMM loses its rate (~45% of TF32's, session
# 41): the op and its kernels at workspace caps of 64 (default), 128, 256 and 1024 MiB, fold on
# and off. A probe for the next session; no library change.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/cuda_timing.py $R/scripts/probe_speed.py /tmp/
for cap in 64 128 256 1024; do
  timeout 40 python3 probe_speed.py --problems dcgan --dtypes fp32 --workspace $cap --profile 2>&1 | grep -v arn | cut -c1-160
done
timeout 40 python3 probe_speed.py --problems dcgan --dtypes fp32 --fold off --profile --cudnn 2>&1 | grep -v arn | cut -c1-160
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
