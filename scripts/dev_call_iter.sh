# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 29, call 2: the border redo (cuda/border_redo.cu) and the gather's edge columns:
# build; every CUDA test alone; compute-sanitizer memcheck on the new border tests and on
# config 3 (the direct gather); the float32 suite bench (against session 28's table); the
# redo's two launches in the profiler on the implicit and folded problems.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "border_redo_kernel\|direct_gather_kernel" "$OUT/build.log" | grep -v C7519 | tail -12
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
(cd /tmp && timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda \
  > $OUT/tests.log 2>&1; echo "tests rc=$? at ${SECONDS}s"); tail -3 $OUT/tests.log; grep -E "^FAILED|Error" $OUT/tests.log | head -20
(cd /tmp && timeout 170 compute-sanitizer --tool memcheck --error-exitcode 99 python3 -m pytest -p no:cacheprovider \
  -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -k "border" > $OUT/memcheck_border.log 2>&1; echo "memcheck border rc=$?") &
p1=$!
MEMCHECK_CONFIGS=3 timeout 170 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 scripts/memcheck_cases.py > $OUT/memcheck_3.log 2>&1; echo "memcheck 3 rc=$?"
wait $p1
for f in border 3; do echo "memcheck $f: $(grep -h 'ERROR SUMMARY\|memcheck subset\|passed\|failed' $OUT/memcheck_$f.log | tr '\n' ' ')"; done
echo "memcheck done at ${SECONDS}s"
left=$((540 - SECONDS))
(cd /tmp && timeout $left python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 --json $OUT/bench_float32.json \
  > $OUT/bench_float32.log 2>&1; echo "bench rc=$? at ${SECONDS}s")
left=$((590 - SECONDS)); [ $left -gt 20 ] && (cd scripts && timeout $left python3 probe_speed.py --problems dcgan,kb65 --dtypes tf32 --profile 2>&1 | grep -E "border|flag_non|ms" | head -20)
echo seconds=$SECONDS
