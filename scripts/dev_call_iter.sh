# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~6 min, no carry).
# Prepared in session 36 for session 37's first call: what bounds the row form v4 on kb81
# (510 us, 1.7x the output's write time): ncu stall samples per SASS instruction and its
# speed-of-light line; then the float16 and bfloat16 suite runs that session 36's whole check
# had no time for (the row form changed no 16-bit default, so they check that claim).
R=$(pwd)
{
source scripts/device_build.sh gather_rows $OUT/build.log
echo "built at ${SECONDS}s"
NO_BUILD=1 KERNEL=gather_rows PROBLEM=kb81 GEMM_CONVT_PROBE_TF32=0 timeout 100 bash scripts/ncu_source.sh 2>&1 | tail -45
echo "ncu done at ${SECONDS}s"
cd /tmp
for spec in "float16 --dtype float16" "bfloat16 --dtype bfloat16"; do
  set -- $spec; name=$1; shift
  timeout 100 python3 -m gemm_convt.bench --suite "$@" --warmup 3 --iters 20 --json "$OUT/bench_$name.json" >> "$OUT/bench.log" 2>&1
  echo "bench $name rc=$? at ${SECONDS}s"
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
