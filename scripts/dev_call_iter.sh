# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~7 min, no carry).
# Session 41, call 2: the phases planned once (wgmma_phases), the rerun weight off the cap
# once, the phases' model refit (sets), and the A/B of the wgmma kernel's buffers
# (GEMM_CONVT_WGMMA_STAGES). Focused wgmma tests first, then the stages probe, then the rule
# probe's fcn_up and 256->128 32^2 layers. Prediction: NOTES.md session 41.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/fp32_rule_probe.py $R/scripts/cuda_timing.py $R/scripts/stages_probe.py /tmp/
timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "wgmma or rule or workspace or memory" 2>&1 | tail -15
echo "== stages probe at ${SECONDS}s"
timeout 170 python3 stages_probe.py --problems fcn_up,kb69,kb65 2>&1 | grep -v "arn" | cut -c1-240
echo "== rule probe at ${SECONDS}s"
timeout 60 python3 fp32_rule_probe.py --layer 0 --layer 4 --layer 7 2>&1 | grep -v "arn\|^ *$" | cut -c1-200
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
