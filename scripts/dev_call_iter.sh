# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 29, call 4 (the whole check of the final code): the fold's weight check on the
# caller's stream beside the chunks. Build; every CUDA test; compute-sanitizer memcheck of
# border_probe.py (the redo runs on every path); the redo's cost per suite problem; the
# float32, float16 and bfloat16 suite benches.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "border_redo_kernel\|flag_non_finite" "$OUT/build.log" | grep -v C7519 | tail -6
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm --format=csv,noheader
(cd /tmp && timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda \
  > $OUT/tests.log 2>&1; echo "tests rc=$? at ${SECONDS}s"); tail -3 $OUT/tests.log; grep -E "^FAILED" $OUT/tests.log | head -20
(cd /tmp && timeout 150 compute-sanitizer --tool memcheck --error-exitcode 99 python3 $R/scripts/border_probe.py \
  > $OUT/memcheck_border.log 2>&1; echo "memcheck border_probe rc=$?"); grep -c " ok$" $OUT/memcheck_border.log; grep -E "MISMATCH|ERROR SUMMARY" $OUT/memcheck_border.log
(cd scripts && timeout 120 python3 border_redo_cost.py 2>&1 | grep -v -i warn)
echo "cost probe done at ${SECONDS}s"
left=$((560 - SECONDS))
(cd /tmp && timeout $left python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 --json $OUT/bench_float32.json \
  > $OUT/bench_float32.log 2>&1; echo "bench float32 rc=$? at ${SECONDS}s")
left=$((590 - SECONDS))
(cd /tmp && timeout $left python3 -m gemm_convt.bench --suite --dtype float16,bfloat16 --warmup 3 --iters 20 \
  --json $OUT/bench_half.json > $OUT/bench_half.log 2>&1; echo "bench half rc=$? at ${SECONDS}s")
echo seconds=$SECONDS
