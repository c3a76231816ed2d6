# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 24, call 10: the training suite (issue 7's targets) on the final code.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
timeout 200 python3 -m gemm_convt.bench --suite --mode train --warmup 3 --iters 20 \
  --json "$OUT/bench_train_float32.json" > "$OUT/bench.log" 2>&1
echo "bench rc=$? at ${SECONDS}s"
echo seconds=$SECONDS
