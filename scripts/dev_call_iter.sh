# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 19, call 6: compute-sanitizer memcheck config 5 (folded GEMM + col2im in chunks)
# alone on the final GPU code (the unfold's second version). Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases" "$OUT/build.log"
cd /tmp
MEMCHECK_CONFIGS=5 timeout 380 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck.log" 2>&1
echo "memcheck rc=$?"; tail -2 "$OUT/memcheck.log"
echo seconds=$SECONDS
