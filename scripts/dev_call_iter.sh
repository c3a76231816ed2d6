# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~5 min, no carry).
# Session 37, call 5: the spread of the strict geomean between runs of the same code: the
# float32 suite three times, each in its own process, on the landed row form v5.
R=$(pwd)
{
source scripts/device_build.sh gather_rows $OUT/build.log
echo "built at ${SECONDS}s"
cd /tmp
for k in 1 2 3; do
  timeout 100 python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 --json "$OUT/bench_float32_$k.json" >> "$OUT/bench.log" 2>&1
  echo "bench float32 run $k rc=$? at ${SECONDS}s"
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
