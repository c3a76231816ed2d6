# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 22, call 7: the final code (unfold v3, fold_weight by row, spread limit, new
# tests): build; the fold CUDA tests (the new unfold tile cases among them); memcheck
# config 5 (folded, chunked; two new unfold cases); the half-type benches of fcn_up and
# dcgan again (the whole check's bfloat16 run was slow: fcn_up 1.098 ms). Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases\|fold_weight" "$OUT/build.log"
echo "built at ${SECONDS}s"
cd /tmp
MEMCHECK_CONFIGS=5 timeout 150 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck_5.log" 2>&1 & pm=$!
timeout 100 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "fold or width or unfold" > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -1 "$OUT/tests.log"
wait $pm; echo "memcheck rc=$? at ${SECONDS}s"; grep -E "ERROR SUMMARY|worst|cases" "$OUT/memcheck_5.log" | tail -3
for dt in bfloat16 float16; do
  timeout 40 python3 -m gemm_convt.bench --problem fcn_up --problem dcgan --dtype $dt --warmup 3 --iters 20 \
    --no-ceilings 2>&1 | grep -E "^  (gemm|cuDNN|torch)"
done
echo seconds=$SECONDS
