# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`,
# carry build/base = `git archive 39cad54`).
# Session 22, call 2: the unfold v3 and the 32-bit fold_weight (cuda/fold_operand.cu)
# against 39cad54. Both built side by side (pip --target); the width-fold, chunking and
# col2im CUDA tests on the new build; ncu of the unfold and fold_weight alone in both;
# forwards of the folded suite layers alternating base / new. Logs in $OUT as they finish.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
build() {  # source dir, target dir, log
  (cd "$1" && CMAKE_ARGS="-DCMAKE_CUDA_FLAGS=-Xptxas=-v" GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" \
    CMAKE_BUILD_PARALLEL_LEVEL=8 python3 -m pip install --no-build-isolation --no-deps --no-index -v \
    --target "$2" . >"$3" 2>&1) || { tail -20 "$3"; exit 1; }
}
build "$R/build/base" /tmp/ab/base "$OUT/build_base.log" & pb=$!
build "$R" /tmp/ab/new "$OUT/build_new.log" & pn=$!
wait $pb $pn
grep -A2 "unfold_phases\|fold_weight" "$OUT/build_new.log" | grep -E "registers|spill" | sort | uniq -c
echo "built at ${SECONDS}s"
cd /tmp
PYTHONPATH=/tmp/ab/new timeout 170 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" \
  "$R/tests" -q -x -m cuda -k "fold or width or chunking or col2im or band" > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -1 "$OUT/tests.log"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
ncu_unfold() {  # build problem dtype: the unfold's and fold_weight's launches of one forward, each alone
  echo "== ncu $*"
  PYTHONPATH=/tmp/ab/$1 timeout 60 $NCU --profile-from-start off --clock-control none -k regex:"unfold|fold_weight" \
    --csv --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
    python3 "$R/scripts/ncu_col2im.py" $2 $3 > /tmp/ncu.csv 2>/dev/null
  python3 "$R/scripts/ncu_sum.py" /tmp/ncu.csv
}
for pd in "fcn_up float32" "fcn_up float16" "dcgan float32"; do
  ncu_unfold base $pd
  ncu_unfold new $pd
done
echo "ncu done at ${SECONDS}s"
cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" /tmp/ab/
cd /tmp/ab
for round in 1 2; do
  for v in base new; do
    PYTHONPATH=/tmp/ab/$v timeout 60 python3 probe_speed.py --problems fcn_up,dcgan --dtypes tf32,float16,bfloat16 \
      --cudnn 2>&1 | grep -v "^ *$\|arn" | sed "s/^/$v$round /"
  done
done
echo seconds=$SECONDS
