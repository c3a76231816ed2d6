# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 22, call 1: where dcgan's TF32 training step goes now (folded forward):
# kernels and host gaps, ours and cuDNN, then the bench's train row three times.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"
cd /tmp
for path in ours cudnn; do
  python3 "$R/scripts/step_gaps.py" --problems dcgan --train --path $path --kernels --events 25 --calls 4 \
    > "$OUT/gaps_$path.log" 2>&1
  echo "gaps $path rc=$? at ${SECONDS}s"
done
python3 "$R/scripts/step_gaps.py" --problems dcgan --train --path ours --timeline --calls 2 > "$OUT/timeline_ours.log" 2>&1
for i in 1 2 3; do
  python3 -m gemm_convt.bench --problem dcgan --mode train --no-ceilings --quiet --iters 60 > "$OUT/bench_train_$i.log" 2>&1
  echo "bench $i rc=$? at ${SECONDS}s"
done
