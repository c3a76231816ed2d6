#!/usr/bin/env bash
# Instructions and stalls per CUDA source line of one kernel launch (ncu source
# counters, built with -lineinfo), to see which part of a kernel holds the time.
#   usage: KERNEL=regex PROBLEM=unet_up [TAG=name] [NO_BUILD=1] [GEMM_CONVT_PROBE_*=...] bash scripts/ncu_source.sh
# Writes $OUT/ncu_source${TAG}.csv (one row per source line) and prints the lines holding the
# most stall samples (ncu_source_top.py). NO_BUILD=1: the build of an earlier run is kept.
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
  python3 "$R/scripts/ncu_col2im.py" "${PROBLEM:-unet_up}" "${DTYPE:-float32}" >"$OUT/ncu_run${TAG:-}.log" 2>&1
tail -3 "$OUT/ncu_run${TAG:-}.log"
$NCU --import /tmp/src.ncu-rep --page source --csv --print-source cuda >"$OUT/ncu_source${TAG:-}.csv" 2>&1
$NCU --import /tmp/src.ncu-rep --page source --csv --print-source sass >"$OUT/ncu_sass${TAG:-}.csv" 2>&1
head -c 600 "$OUT/ncu_source${TAG:-}.csv"; echo; wc -l "$OUT"/ncu_*.csv
python3 "$R/scripts/ncu_source_top.py" "$OUT/ncu_source${TAG:-}.csv" 20 || true
