#!/usr/bin/env bash
# On the GPU machine: build, then ncu on one launch of the direct-gather kernel
# (forced on) for kb81 and kb75 in float32.   usage: bash scripts/ncu_gather.sh  (logs in $OUT)
R=$(pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
source scripts/device_build.sh direct_gather_kernel "$OUT/build.log"
cd /tmp
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for prob in ${PROBLEMS:-kb81 kb75}; do
  GEMM_CONVT_PROBE_DIRECT=on $NCU --kernel-name regex:direct_gather --launch-count 1 --set full \
    python3 "$R/scripts/ncu_col2im.py" $prob float32 >"$OUT/ncu_$prob.txt" 2>&1
  grep -E "Duration|DRAM Throughput|Compute \(SM\) Throughput|Registers Per|Achieved Occ|Issued Warp|Eligible Warps|Executed Instructions  |L1/TEX Hit|L2 Hit|Mem Busy|Max Bandwidth" "$OUT/ncu_$prob.txt" | head -20
done
