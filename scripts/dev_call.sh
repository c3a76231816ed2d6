# The session's device call (run with the device tool: `bash scripts/dev_call.sh`): the whole
# check without its benchmarks (build, CUDA tests, memcheck), then the suite benchmarks one by
# one in the time left under LIMIT seconds (default 560), each writing straight to $OUT so
# that a call cut short still returns what finished: gc.tgz (the check's logs), bench.log,
# and one JSON per benchmark. EXTRA="command" runs last, from /tmp, if 40 s are left, or
# before the benchmarks with EXTRA_FIRST=S (at most S seconds); its output in $OUT/extra.log.
set -u
limit=${LIMIT:-560}
# memcheck after the tests, each config capped (session 30: beside the tests they slowed them 5x).
GPU_CHECK_SKIP_CPU_TESTS=1 GPU_CHECK_SKIP_BENCH=1 GPU_CHECK_MEMCHECK_AFTER=1 GPU_CHECK_MEMCHECK_TIMEOUT=${MEMCHECK_TIMEOUT:-180} \
  timeout $((limit - 130)) bash scripts/gpu_check.sh /tmp/gc > /tmp/gc_summary.log 2>&1
rc=$?
cp /tmp/gc_summary.log /tmp/gc/ && tar czf $OUT/gc.tgz -C /tmp/gc .
head -c 2500 /tmp/gc_summary.log
grep -h -E "passed|failed|ERROR SUMMARY" /tmp/gc/tests.log /tmp/gc/memcheck.log | sort | uniq -c | tail -8
R=$(pwd)
run_extra() {  # EXTRA from /tmp with $R the repo root, at most $1 seconds
  (cd /tmp && R=$R timeout "$1" bash -c "$EXTRA" > "$OUT/extra.log" 2>&1)
  echo "extra rc=$? at ${SECONDS}s"
}
# EXTRA_FIRST=S: EXTRA before the benchmarks, capped at S seconds.
if [ -n "${EXTRA:-}" ] && [ -n "${EXTRA_FIRST:-}" ]; then run_extra "$EXTRA_FIRST"; fi
for spec in "float32 --suite" "train_float32 --suite --mode train" "float16 --suite --dtype float16" \
    "bfloat16 --suite --dtype bfloat16"; do
  set -- $spec; name=$1; shift
  left=$((limit - SECONDS))
  [ $left -gt 40 ] || { echo "no time left for bench $name"; continue; }
  (cd /tmp && timeout $left python3 -m gemm_convt.bench "$@" --warmup 3 --iters 20 --json "$OUT/bench_$name.json" \
    >> "$OUT/bench.log" 2>&1)
  echo "bench $name rc=$? at ${SECONDS}s"
done
if [ -n "${EXTRA:-}" ] && [ -z "${EXTRA_FIRST:-}" ] && [ $((limit - SECONDS)) -gt 40 ]; then
  run_extra $((limit - SECONDS))
fi
echo rc=$rc seconds=$SECONDS
