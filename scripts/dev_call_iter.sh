# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 20, call 2: width folding by its rule (problem.h width_fold_pays). The focused
# CUDA tests (the rule's cases, folding, plain GEMM + col2im, chunking), then the fold
# probe on the shapes the rule was not fitted on, NCHW and channels_last, and the suite's
# forward in TF32 with the default (rule) against forced plain. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases" "$OUT/build.log"
cd /tmp
timeout 200 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "width_folding or test_grid or chunked or several_samples" > "$OUT/tests.log" 2>&1
echo "tests rc=$?"; tail -3 "$OUT/tests.log"
timeout 150 python3 "$R/scripts/fold_rule_probe.py" --held-out --dtypes tf32,float16 > "$OUT/fold_rule.log" 2>&1
echo "probe rc=$?"; grep -v "^ *$\|arn" "$OUT/fold_rule.log"
timeout 100 python3 "$R/scripts/fold_rule_probe.py" --channels-last --dtypes tf32,float16 > "$OUT/fold_rule_cl.log" 2>&1
echo "probe cl rc=$?"; grep -v "^ *$\|arn" "$OUT/fold_rule_cl.log"
echo seconds=$SECONDS
