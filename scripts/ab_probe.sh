#!/usr/bin/env bash
# On the GPU machine: build BASE_SRC (another checkout, e.g. `git archive REV` under
# build/) and this tree side by side (pip --target), then run probe_speed.py with
# the given arguments twice for each, alternating, in one lease.
#   usage: bash scripts/ab_probe.sh BASE_SRC [probe_speed.py args...]   (logs in $OUT)
set -u
base_src=$(cd "$1" && pwd); shift
R=$(pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" /tmp/ab
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
build() {  # source dir, target dir, log; a target already built is kept (a second A/B in one call)
  [ -d "$2/gemm_convt" ] && return 0
  (cd "$1" && GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" CMAKE_BUILD_PARALLEL_LEVEL=8 \
    python3 -m pip install --no-build-isolation --no-deps --no-index --target "$2" . >"$3" 2>&1) ||
    { tail -20 "$3"; exit 1; }
}
build "$base_src" /tmp/ab/base "$OUT/build_base.log" &
build "$R" /tmp/ab/new "$OUT/build_new.log" &
wait
cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" /tmp/ab/
cd /tmp/ab
for round in 1 2; do
  for v in base new; do
    PYTHONPATH=/tmp/ab/$v python3 probe_speed.py "$@" 2>&1 | grep -v "^ *$\|arn" | sed "s/^/$v$round /"
  done
done
