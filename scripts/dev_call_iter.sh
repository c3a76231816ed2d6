# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 23, call 2: main's code (the staged tiles dropped): session 22 left memcheck of
# config 5 (folded, chunked) with its two new unfold cases unfinished. Build, then that
# memcheck alone (no tests beside it) and racecheck of the unfold / block cases (shared
# memory and barriers), then the half-type bench rows of fcn_up and dcgan. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases\|fold_weight" "$OUT/build.log"
echo "built at ${SECONDS}s"
cd /tmp
MEMCHECK_CONFIGS=5 timeout 330 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck_5.log" 2>&1 & pm=$!
MEMCHECK_CONFIGS=5 MEMCHECK_CASES=13,14,15 timeout 330 compute-sanitizer --tool racecheck \
  --error-exitcode 99 python3 "$R/scripts/memcheck_cases.py" > "$OUT/racecheck_5.log" 2>&1 & pr=$!
wait $pm; echo "memcheck rc=$? at ${SECONDS}s"; grep -E "ERROR SUMMARY|cases" "$OUT/memcheck_5.log" | tail -2
wait $pr; echo "racecheck rc=$? at ${SECONDS}s"; grep -E "ERROR SUMMARY|RACECHECK SUMMARY|hazard|cases" "$OUT/racecheck_5.log" | tail -3
for dt in bfloat16 float16; do
  timeout 50 python3 -m gemm_convt.bench --problem fcn_up --problem dcgan --dtype $dt --warmup 3 --iters 20 \
    --no-ceilings 2>&1 | grep -E "^  (gemm|cuDNN|torch)"
done
echo seconds=$SECONDS
