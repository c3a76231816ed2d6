# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 23, call 3: the fold's phases found once a call on the host and passed to both
# operand kernels (FoldPhases; the unfold's per-block tap search and shared arrays gone).
# Build; the fold / width / unfold CUDA tests; memcheck of the folded cases beside them;
# ncu of the unfold and fold_weight alone (session 22: 7.4 / 7.1 / 9.4 us, 9.6 / 9.3 / 15.8).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases\|fold_weight" "$OUT/build.log"
echo "built at ${SECONDS}s"
cd /tmp
MEMCHECK_CONFIGS=5 MEMCHECK_CASES=13,14,15 timeout 200 compute-sanitizer --tool memcheck \
  --error-exitcode 99 python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck_5.log" 2>&1 & pm=$!
timeout 200 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "fold or width or unfold" > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -1 "$OUT/tests.log"
wait $pm; echo "memcheck rc=$? at ${SECONDS}s"; grep -E "ERROR SUMMARY|cases" "$OUT/memcheck_5.log" | tail -2
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for pd in "fcn_up float32" "fcn_up float16" "dcgan float32"; do
  echo "== ncu $pd"
  timeout 60 $NCU --profile-from-start off --clock-control none -k regex:"unfold|fold_weight" \
    --csv --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
    python3 "$R/scripts/ncu_col2im.py" $pd > /tmp/ncu.csv 2>/dev/null
  python3 "$R/scripts/ncu_sum.py" /tmp/ncu.csv
done
echo seconds=$SECONDS
