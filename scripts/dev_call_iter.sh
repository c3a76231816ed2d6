# This session's second-run device call: build, the disjoint-taps tests, and the float32
# forward, training and float16 suites again (logs and JSON under $OUT).
R=$(pwd)
source scripts/device_build.sh disjoint_taps_kernel "$OUT/build.log"
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda -k "disjoint" 2>&1 | tail -2
for args in "bench_float32 --suite" "bench_train_float32 --suite --mode train" "bench_float16 --suite --dtype float16"; do
  set -- $args
  name=$1; shift
  python3 -m gemm_convt.bench --json "$OUT/$name.json" --warmup 3 --iters 20 "$@" > "$OUT/$name.log" 2>&1
  tail -1 "$OUT/$name.log"
done
