# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 5: ncu on the wgmma probe's kb69 launch (RS, 4 stages, 128 x 64 tiles).
exec > >(tee "$OUT/iter.log") 2>&1
nvidia-smi --query-gpu=name --format=csv,noheader
cd scripts && nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a wgmma_split_probe.cu -o /tmp/probe || exit 1
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for mode in tf32 split; do
  $NCU --kernel-name regex:probe_kernel --launch-count 1 --set full /tmp/probe $mode > "$OUT/ncu_$mode.txt" 2>&1
  echo "== $mode"
  grep -E "Duration|DRAM Throughput|L2 Cache Throughput|L1/TEX Cache Throughput|Compute \(SM\) Throughput|Registers Per|Achieved Occ|Theoretical Occ|Issued Warp|Eligible Warps|Executed Instructions  |L2 Hit|Block Limit|Bank Conf|Tensor" "$OUT/ncu_$mode.txt" | head -24
  grep -iE "stall|est\. speedup" "$OUT/ncu_$mode.txt" | cut -c1-220 | head -10
done
echo seconds=$SECONDS
