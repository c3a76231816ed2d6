# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 26, call 4: the split's error by part rounding and K order (stock torch GEMMs).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
cd /tmp && python3 $R/scripts/split_accuracy_probe.py 2>&1
echo seconds=$SECONDS
