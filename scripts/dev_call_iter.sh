# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 24, call 8: the half-type suites and the whole-model training steps on the final
# code (the whole check's call ran out of time after float32 and training).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
for spec in "float16 --suite --dtype float16" "bfloat16 --suite --dtype bfloat16" \
    "models --model dcgan --model unet --mode train --dtype float32"; do
  set -- $spec; name=$1; shift
  left=$((560 - SECONDS))
  [ $left -gt 40 ] || { echo "no time left for bench $name"; continue; }
  timeout $left python3 -m gemm_convt.bench "$@" --warmup 3 --iters 20 --json "$OUT/bench_$name.json" >> "$OUT/bench.log" 2>&1
  echo "bench $name rc=$? at ${SECONDS}s"
done
echo seconds=$SECONDS
