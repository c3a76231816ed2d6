# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 42, call 5: fcn_up's spread — the bench's fcn_up (ours, cuDNN, torch's own in one
# process) in four processes, to report fcn_up strict against torch's own as a range.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp
for run in 1 2 3 4; do
  timeout 60 python3 -m gemm_convt.bench --problem fcn_up --warmup 3 --iters 30 2>&1 | grep -E "^  (gemm_convt|cuDNN|torch)"
  echo "-- run $run at ${SECONDS}s"
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
