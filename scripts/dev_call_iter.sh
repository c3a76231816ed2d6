# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 37, call 6: the row form's tests after the review (the 64-bit test now names the
# instantiation it expects), with the kernel names the profiler reports.
R=$(pwd)
{
source scripts/device_build.sh gather_rows $OUT/build.log
echo "built at ${SECONDS}s"
(cd /tmp && timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R -q \
  $R/tests/test_cuda.py -k "gather_rows" 2>&1 | tail -4)
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
