# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 38, call 6: the row form's host tidy (one formula each for its spans and runs; the
# struct's unread runs field dropped): its tests and kb81's time, fp32 and TF32, beside cuDNN.
R=$(pwd)
{
source scripts/device_build.sh gather_rows_kernel $OUT/build.log
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q \
  -k "gather_rows or gather" 2>&1 | tail -4
echo "== kb81 at ${SECONDS}s"
timeout 40 python3 probe_speed.py --problems kb81 --dtypes fp32,tf32 --cudnn 2>&1 | grep -v "arn\|^ *$" | cut -c1-150
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
