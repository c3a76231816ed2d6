# This session's probe call (device tool: `bash scripts/dev_call_iter.sh`, ~5 min, no carry).
# Session 36, call 1: what bounds kb81 (strict 0.75 ms: col2im_runs 525 us for 1133 MB, the
# IEEE sm80 GEMM 287 us for 302 MB of columns): ncu on one launch of each, then the op's time
# beside the two fused paths forced (direct gather, disjoint taps), float32 with TF32 off.
R=$(pwd)
{
source scripts/device_build.sh col2im_runs $OUT/build.log
echo "built at ${SECONDS}s"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
SECTIONS="--section SpeedOfLight --section Occupancy --section WarpStateStats --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables --section SchedulerStats --section LaunchStats"
for k in col2im_runs gemm; do
  (cd /tmp && GEMM_CONVT_PROBE_TF32=0 timeout 100 $NCU --profile-from-start off --kernel-name regex:$k \
    --launch-count 1 $SECTIONS python3 "$R/scripts/ncu_col2im.py" kb81 float32 > "$OUT/ncu_$k.txt" 2>&1)
  echo "== $k"; grep -E "^  [a-z_]|Duration|Throughput|Hit Rate|Registers|Achieved Occ|Theoretical Occ|Issued Warp|Eligible Warps|Sectors/Req|Grid Size|Block Size|Waves" "$OUT/ncu_$k.txt" | head -40
done
echo "ncu done at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for args in "" "--direct on" "--disjoint on"; do
  echo "== probe $args"; timeout 60 python3 probe_speed.py --problems kb81 --dtypes ieee,tf32,float16 --cudnn --profile $args 2>&1 | grep -v "^ *$\|arn" | head -40
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
