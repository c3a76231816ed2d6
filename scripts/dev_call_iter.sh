# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~3 min, no carry).
# Session 40, call 2: fcn_up split float32 on the phases at workspace caps that give 2, 2, 3 and
# 4 samples a chunk (1.0 / 1.0 / 1.5 / 2.0 waves a launch), wall time and kernel sums.
# Prediction: NOTES.md session 40, "Plan: call 2".
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for ws in ${CAPS:-40 48 64 72 40 64}; do
  echo "== fcn_up, workspace $ws MiB at ${SECONDS}s"
  timeout 60 python3 probe_speed.py --problems fcn_up --dtypes fp32 --implicit on --workspace $ws --profile 2>&1 \
    | grep -v "arn\|^ *$" | cut -c1-150 | head -4
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
