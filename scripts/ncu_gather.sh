#!/usr/bin/env bash
# On the GPU machine: build, then ncu on one launch of the direct-gather kernel
# (forced on) for kb81 and kb75 in float32.   usage: bash scripts/ncu_gather.sh  (logs in $OUT)
R=$(pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
CMAKE_ARGS="-DCMAKE_CUDA_FLAGS=-Xptxas=-v" GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" \
  CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install --no-build-isolation --no-deps --no-index -v . \
  >"$OUT/build.log" 2>&1 || { tail -30 "$OUT/build.log"; exit 1; }
grep -A2 "direct_gather_kernel" "$OUT/build.log" | grep -E "registers|spill" | sort | uniq -c
cd /tmp
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for prob in ${PROBLEMS:-kb81 kb75}; do
  GEMM_CONVT_PROBE_DIRECT=on $NCU --kernel-name regex:direct_gather --launch-count 1 --set full \
    python3 "$R/scripts/ncu_col2im.py" $prob float32 >"$OUT/ncu_$prob.txt" 2>&1
  grep -E "Duration|DRAM Throughput|Compute \(SM\) Throughput|Registers Per|Achieved Occ|Issued Warp|Eligible Warps|Executed Instructions  |L1/TEX Hit|L2 Hit|Mem Busy|Max Bandwidth" "$OUT/ncu_$prob.txt" | head -20
done
