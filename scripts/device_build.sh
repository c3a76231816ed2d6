#!/usr/bin/env bash
# Sourced by the device probes: installs this tree for the GPU present (CUDA
# required, ptxas register counts in the log) and prints the register and
# spill lines of the kernels matching $1.   usage: source scripts/device_build.sh REGEX LOG
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
CMAKE_ARGS="-DCMAKE_CUDA_FLAGS=-Xptxas=-v" GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" \
  CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install --no-build-isolation --no-deps --no-index -v . \
  >"$2" 2>&1 || { tail -30 "$2"; exit 1; }
grep -A2 "$1" "$2" | grep -E "registers|spill" | sort | uniq -c
