# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Prepared in session 40 for the next: the phases' cost model (cuda/wgmma_phases.cpp) was fitted
# with one call a phase; phase sets (session 40) share the pack and the launch. Time the probe's
# strided layers (default rule, split and IEEE columns, forced implicit = the phases where they
# apply) with sets, and the forced implicit GEMM with one call a phase, to refit the model.
# Prediction: NOTES.md session 40, "Next session".
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/fp32_rule_probe.py $R/scripts/cuda_timing.py /tmp/
echo "== phase sets at ${SECONDS}s"
timeout 200 python3 fp32_rule_probe.py 2>&1 | grep -v "arn\|^ *$" | cut -c1-200
echo "== one call a phase at ${SECONDS}s"
GEMM_CONVT_WGMMA_PHASE_SETS=0 timeout 150 python3 fp32_rule_probe.py 2>&1 | grep -v "arn\|^ *$" | cut -c1-200
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
