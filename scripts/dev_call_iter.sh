# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~5 min, no carry).
# Session 40, call 3: phase sets (cuda/wgmma_phases.cpp). Build; the wgmma tests and memcheck on
# the phases' tests; fcn_up split float32 with sets and with one call a phase
# (GEMM_CONVT_WGMMA_PHASE_SETS=0), twice each. Prediction: NOTES.md session 40, "Built: phase sets".
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for sets in 1 0 1 0; do
  echo "== fcn_up, phase sets $sets at ${SECONDS}s"
  GEMM_CONVT_WGMMA_PHASE_SETS=$sets timeout 60 python3 probe_speed.py --problems fcn_up --dtypes fp32,tf32 --implicit on --profile 2>&1 \
    | grep -v "arn\|^ *$" | cut -c1-150 | head -12
done
cd $R
echo "== tests at ${SECONDS}s"
timeout 200 python3 -m pytest -p no:cacheprovider tests/test_cuda.py -q -x -k "wgmma" 2>&1 | tail -15
echo "== memcheck at ${SECONDS}s"
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 9 python3 -m pytest -p no:cacheprovider tests/test_cuda.py -q -x \
  -k "test_wgmma_phase and contiguous or test_wgmma_phase_sets or test_wgmma_phases_workspace_cap" 2>&1 | tail -6
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
