#!/usr/bin/env bash
# Kernel iteration on the GPU machine: build for the GPU present, run the
# CUDA tests that are not marked slow, then the timing probe.
#   usage: bash scripts/dev_iter.sh LOGDIR [probe args...]
set -uo pipefail
logs=${1:?usage: scripts/dev_iter.sh LOGDIR [probe args...]}; shift
mkdir -p "$logs"; root=$(pwd)
export PYTHONUNBUFFERED=1 CMAKE_BUILD_PARALLEL_LEVEL=16
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
CMAKE_ARGS="-DCMAKE_CUDA_FLAGS=-Xptxas=-v" GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" python3 -m pip install --no-build-isolation --no-deps \
  --no-index -v . >"$logs/build.log" 2>&1 || { tail -40 "$logs/build.log"; exit 1; }
(cd /tmp && timeout ${TEST_TIMEOUT:-300} python3 -m pytest -p no:cacheprovider -c "$root/pyproject.toml" \
  --rootdir "$root" "$root/tests" -q -x -m "cuda and not slow" ${TEST_K:+-k "$TEST_K"} 2>&1 \
  | tee "$logs/tests.log" | tail -n 12)
grep -A2 "${PTXAS_KERNEL:-col2im_kernel}" "$logs/build.log" | grep -E "registers|spill" | sort | uniq -c | head -8
(cd /tmp && python3 "$root/scripts/probe_speed.py" "$@" 2>&1 | tee "$logs/probe.log")
