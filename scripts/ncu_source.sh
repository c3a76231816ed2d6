#!/usr/bin/env bash
# Instructions and stalls per SASS instruction of one kernel launch (ncu source
# counters; -lineinfo builds also name the CUDA files), to see which part of a kernel
# holds the time.
#   usage: KERNEL=regex PROBLEM=unet_up [TAG=name] [NO_BUILD=1] [GEMM_CONVT_PROBE_*=...] bash scripts/ncu_source.sh
# Writes ncu_source${TAG}.csv (CUDA lines) and ncu_sass${TAG}.csv (instructions) into
# $OUT/ncu_csv${TAG}.tgz (one file back, not two), prints the kernel's warp-state and
# speed-of-light sections and the instructions holding the most stall samples
# (ncu_source_top.py: ncu's CUDA-line CSV carries no metrics). NO_BUILD=1: the build of an
# earlier run (or the one on PYTHONPATH) is kept.
set -u
R=$(pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
[ -n "${NO_BUILD:-}" ] || CMAKE_ARGS="-DCMAKE_CUDA_FLAGS=-lineinfo" GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" \
  CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install --no-build-isolation --no-deps --no-index -v . \
  >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
cd /tmp
$NCU --kernel-name "regex:${KERNEL:?}" --launch-count 1 --import-source yes \
  --section SourceCounters --section WarpStateStats --section SpeedOfLight -o /tmp/src -f \
  python3 "$R/scripts/ncu_col2im.py" "${PROBLEM:-unet_up}" "${DTYPE:-float32}" >"/tmp/ncu_run${TAG:-}.log" 2>&1
tail -3 "/tmp/ncu_run${TAG:-}.log"
csv_dir=/tmp/ncu_csv${TAG:-}; mkdir -p "$csv_dir"
$NCU --import /tmp/src.ncu-rep --page source --csv --print-source cuda >"$csv_dir/ncu_source${TAG:-}.csv" 2>&1
$NCU --import /tmp/src.ncu-rep --page source --csv --print-source sass >"$csv_dir/ncu_sass${TAG:-}.csv" 2>&1
tar czf "$OUT/ncu_csv${TAG:-}.tgz" -C "$csv_dir" .
$NCU --import /tmp/src.ncu-rep --page details --section WarpStateStats --section SpeedOfLight 2>&1 | grep -v "^ *-\+ *$" | tail -45
python3 "$R/scripts/ncu_source_top.py" "$csv_dir/ncu_sass${TAG:-}.csv" 25 || head -c 800 "$csv_dir/ncu_sass${TAG:-}.csv"
