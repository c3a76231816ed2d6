# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 16: the whole check in one call, in sequence (the CUDA tests alone, then
# memcheck's configs side by side, then the float32 suite bench in the time left).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -2
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp && timeout 260 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda \
  -rs > $OUT/tests.log 2>&1; echo "tests rc=$? at ${SECONDS}s"; tail -3 $OUT/tests.log
n=$(python3 $R/scripts/memcheck_cases.py --count); pids=()
for ((i = 0; i < n; i++)); do
  MEMCHECK_CONFIGS=$i timeout 200 compute-sanitizer --tool memcheck --error-exitcode 99 python3 $R/scripts/memcheck_cases.py \
    > $OUT/memcheck_$i.log 2>&1 & pids+=($!)
done
rc=0; for p in "${pids[@]}"; do wait $p || rc=1; done
echo "memcheck rc=$rc at ${SECONDS}s"; grep -h "ERROR SUMMARY\|memcheck subset" $OUT/memcheck_*.log | sort | uniq -c
left=$((585 - SECONDS))
[ $left -gt 60 ] && (cd /tmp && timeout $left python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 \
  --json $OUT/bench_float32.json > $OUT/bench.log 2>&1; echo "bench rc=$? at ${SECONDS}s")
echo seconds=$SECONDS
