# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`,
# carry build/base = `git archive 54d4da5`, the unfold v3 with 64-position tiles).
# Session 22, call 3 (call 2 compared 39cad54 with 54d4da5): 54d4da5 built as /tmp/ab/new and
# this tree (32-position tiles, fold_weight by weight row) as /tmp/ab/new32, side by side;
# the fold / chunking / col2im CUDA tests on new32; ncu of the unfold and fold_weight alone
# in both; forwards alternating new / new32.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
build() {  # source dir, target dir, log
  (cd "$1" && CMAKE_ARGS="-DCMAKE_CUDA_FLAGS=-Xptxas=-v" GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" \
    CMAKE_BUILD_PARALLEL_LEVEL=8 python3 -m pip install --no-build-isolation --no-deps --no-index -v \
    --target "$2" . >"$3" 2>&1) || { tail -20 "$3"; exit 1; }
}
build "$R/build/base" /tmp/ab/new "$OUT/build_new.log" & pb=$!
build "$R" /tmp/ab/new32 "$OUT/build_new32.log" & pn=$!
wait $pb $pn
echo "built at ${SECONDS}s"
cd /tmp
PYTHONPATH=/tmp/ab/new32 timeout 120 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" \
  "$R/tests" -q -x -m cuda -k "fold or width or chunking or col2im or band" > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -1 "$OUT/tests.log"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
ncu_unfold() {  # build problem dtype
  echo "== ncu $*"
  PYTHONPATH=/tmp/ab/$1 timeout 60 $NCU --profile-from-start off --clock-control none -k regex:"unfold|fold_weight" \
    --csv --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
    python3 "$R/scripts/ncu_col2im.py" $2 $3 > /tmp/ncu.csv 2>/dev/null
  python3 "$R/scripts/ncu_sum.py" /tmp/ncu.csv
}
for pd in "fcn_up float32" "fcn_up float16" "dcgan float32"; do
  ncu_unfold new $pd
  ncu_unfold new32 $pd
done
echo "ncu done at ${SECONDS}s"
cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" /tmp/ab/
cd /tmp/ab
for round in 1 2; do
  for v in new new32; do
    PYTHONPATH=/tmp/ab/$v timeout 60 python3 probe_speed.py --problems fcn_up,dcgan --dtypes tf32,float16,bfloat16 \
      2>&1 | grep -v "^ *$\|arn" | sed "s/^/$v$round /"
  done
done
echo seconds=$SECONDS
