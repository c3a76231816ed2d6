# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 41, call 6: fcn_up strict's wall against its kernels. Call 5: the products alone
# (1024 MiB cap, one launch) take 1148 us and the op 1.36-1.43 ms, at 64 MiB 1.42: ~0.27 ms
# of the op is outside the products. step_gaps: GPU busy against idle (host-late, other) and
# the last call's kernels in order, at the 64 MiB default, for the strict default and TF32.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/step_gaps.py $R/scripts/cuda_timing.py /tmp/
for dtype in ieee tf32; do
  timeout 60 python3 step_gaps.py --problems fcn_up --dtype $dtype --kernels --calls 4 2>&1 | grep -v "arn" | cut -c1-170
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
