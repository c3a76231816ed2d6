#!/usr/bin/env bash
# On the GPU machine: build, the disjoint-taps CUDA tests, the timing probe on
# the disjoint problems (and the GEMM + col2im path beside it), and ncu on one
# launch of the kernel.   usage: bash scripts/ncu_disjoint.sh   (logs in $OUT)
R=$(pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
source scripts/device_build.sh disjoint_taps_kernel "$OUT/build.log"
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m "cuda and not slow" -k "${TEST_K:-disjoint or grid or layouts}" 2>&1 | tail -3
for on in off on; do
  python3 "$R/scripts/probe_speed.py" --problems ${PROBLEMS:-unet_up,kb81} --dtypes tf32,float16 --cudnn \
    --disjoint $on 2>&1 | grep ratio
done
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
GEMM_CONVT_PROBE_DISJOINT=on $NCU --kernel-name regex:disjoint_taps --launch-count 1 --section SpeedOfLight --section Occupancy \
  --section WarpStateStats --section MemoryWorkloadAnalysis --section SchedulerStats \
  python3 "$R/scripts/ncu_col2im.py" unet_up float32 >"$OUT/ncu_unet.txt" 2>&1
grep -E "Duration|Throughput|Registers|Achieved Occ|Issued Warp|Eligible Warps" "$OUT/ncu_unet.txt"
