# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~5 min).
# Prepared in session 35 for session 36's first call: what bounds kb81's col2im runs kernel
# (525-537 us for 1133 MB, 2.2 TB/s, whether it walks rows by cell (main) or by phase
# (branch phase-runs, 3x fewer instructions a row, yet level)). Both builds side by side: their
# times (ab_many, kernel sums), then ncu on one launch of each (float32, TF32 off: IEEE GEMM + runs).
# Prepare and carry:
#   for b in main phase-runs; do rm -rf build/$b && mkdir -p build/$b && git archive $b | tar -x -C build/$b; done
# carry: ["build/main", "build/phase-runs"]
R=$(pwd)
{
VARIANTS="main:build/main runs:build/phase-runs" timeout 330 bash scripts/ab_many.sh "--problems kb81 --dtypes fp32,float16 --profile"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for v in main runs; do
  (cd /tmp && GEMM_CONVT_PROBE_TF32=0 PYTHONPATH=/tmp/ab/$v timeout 90 $NCU --profile-from-start off \
    --kernel-name regex:col2im_runs --launch-count 1 --section SpeedOfLight --section Occupancy \
    --section WarpStateStats --section MemoryWorkloadAnalysis --section MemoryWorkloadAnalysis_Tables \
    --section SchedulerStats python3 "$R/scripts/ncu_col2im.py" kb81 float32 > "$OUT/ncu_$v.txt" 2>&1)
  echo "== $v"; grep -E "Duration|Throughput|Hit Rate|Registers|Achieved Occ|Issued Warp|Eligible Warps|Sectors/Req" "$OUT/ncu_$v.txt"
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
