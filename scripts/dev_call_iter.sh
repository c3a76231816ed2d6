# This session's last iteration call: one col2im item decomposition for both orders. Builds
# this tree and build/ab_base (the commit before) side by side, runs the col2im-related CUDA
# tests beside memcheck (GEMM + col2im, whole and chunked), then both builds' col2im kernel
# times, NCHW and channels_last, alternating. Log: $OUT/iter.log.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
build() {  # source dir, target dir, log
  (cd "$1" && GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" CMAKE_BUILD_PARALLEL_LEVEL=8 \
    python3 -m pip install --no-build-isolation --no-deps --no-index --target "$2" . >"$3" 2>&1) ||
    { tail -20 "$3"; exit 1; }
}
mkdir -p /tmp/ab
build build/ab_base /tmp/ab/base "$OUT/build_base.log" &
b1=$!
build "$R" /tmp/ab/new "$OUT/build_new.log" &
b2=$!
wait $b1 $b2
export PYTHONPATH=/tmp/ab/new
pids=()
for i in 0 2; do
  MEMCHECK_CONFIGS=$i timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 \
    python3 scripts/memcheck_cases.py > "$OUT/memcheck_$i.log" 2>&1 &
  pids+=($!)
done
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m cuda \
  -k "grid or tiled_col2im or channels_last or chunking or band or fold or layouts or several_samples" 2>&1 | tail -2
wait "${pids[@]}"; for i in 0 2; do tail -1 "$OUT/memcheck_$i.log"; done
cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" /tmp/ab/
cd /tmp/ab
for round in 1 2; do
  for v in base new; do
    for cl in "" --channels-last; do
      PYTHONPATH=/tmp/ab/$v python3 probe_speed.py --problems fcn_up,dcgan,kb81 --dtypes tf32,float16 --profile $cl \
        2>&1 | grep -E " ms|col2im" | sed -E "s/\(gemm_convt::Co.*//; s/chunk=auto *//; s/^/$v$round /"
    done
  done
done
