# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 29, call 3: the border redo's flag kernel on up to 1024 blocks and its early exit
# reading the flags side by side (call 2: 51 us on dcgan's weight). Build; every CUDA test;
# compute-sanitizer memcheck of border_probe.py (every path and precision, with NaN/inf
# weights: the redo runs); the redo's cost per suite problem; the float32 suite bench.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "border_redo_kernel\|flag_non_finite" "$OUT/build.log" | grep -v C7519 | tail -6
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm --format=csv,noheader
(cd /tmp && timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda \
  > $OUT/tests.log 2>&1; echo "tests rc=$? at ${SECONDS}s"); tail -3 $OUT/tests.log; grep -E "^FAILED" $OUT/tests.log | head -20
(cd /tmp && timeout 150 compute-sanitizer --tool memcheck --error-exitcode 99 python3 $R/scripts/border_probe.py \
  > $OUT/memcheck_border.log 2>&1; echo "memcheck border_probe rc=$?"); grep -c " ok$" $OUT/memcheck_border.log; grep -E "MISMATCH|ERROR SUMMARY" $OUT/memcheck_border.log
echo "memcheck done at ${SECONDS}s"
(cd scripts && timeout 150 python3 border_redo_cost.py 2>&1)
echo "cost probe done at ${SECONDS}s"
left=$((590 - SECONDS))
(cd /tmp && timeout $left python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 --json $OUT/bench_float32.json \
  > $OUT/bench_float32.log 2>&1; echo "bench rc=$? at ${SECONDS}s")
echo seconds=$SECONDS
