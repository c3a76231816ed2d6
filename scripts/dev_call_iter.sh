# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 20, call 1: width folding against plain columns over nine shapes and three
# dtypes in one process (scripts/fold_rule_probe.py), the data for issue 6 item 2's rule.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases" "$OUT/build.log"
cd /tmp
timeout 300 python3 "$R/scripts/fold_rule_probe.py" --profile > "$OUT/fold_rule.log" 2>&1
echo "probe rc=$?"; cat "$OUT/fold_rule.log" | grep -v "^ *$" | head -120
echo seconds=$SECONDS
