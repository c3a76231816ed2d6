# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 28, call 6 (the whole check of the final code, in one call): build; every CUDA test
# beside compute-sanitizer memcheck of six configs (1, 2, 4, 5, 6, 7: GEMM + col2im under tiny
# workspaces, the implicit GEMM's two, the fold, the disjoint kernel with its wgmma case); the
# float32 suite bench; the training memory of kb65 TF32.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "disjoint_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -3
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
pids=()
for c in 7 4 5 6 1 2; do
  MEMCHECK_CONFIGS=$c timeout 330 compute-sanitizer --tool memcheck --error-exitcode 99 \
    python3 scripts/memcheck_cases.py > $OUT/memcheck_$c.log 2>&1 &
  pids+=($!)
done
(cd /tmp && timeout 300 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda \
  > $OUT/tests.log 2>&1; echo "tests rc=$? at ${SECONDS}s"); tail -3 $OUT/tests.log
for p in "${pids[@]}"; do wait $p; done
for c in 7 4 5 6 1 2; do echo "memcheck $c: $(grep -h 'ERROR SUMMARY\|memcheck subset' $OUT/memcheck_$c.log | tr '\n' ' ')"; done
echo "memcheck done at ${SECONDS}s"
left=$((580 - SECONDS))
(cd /tmp && timeout $left python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 --json $OUT/bench_float32.json \
  > $OUT/bench_float32.log 2>&1; echo "bench rc=$? at ${SECONDS}s")
left=$((590 - SECONDS)); [ $left -gt 20 ] && (cd scripts && timeout $left python3 probe_speed.py --problems kb65 --dtypes tf32 --train 2>&1 | grep train)
echo seconds=$SECONDS
