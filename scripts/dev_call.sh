# The session's device call (run with the device tool: `bash scripts/dev_call.sh`).
# The whole check in one call, then the disjoint-taps probe on the installed build.
set -u
R=$(pwd)
GPU_CHECK_SKIP_CPU_TESTS=1 bash scripts/gpu_check.sh /tmp/gc --warmup 3 --iters 20 > /tmp/gc_summary.log 2>&1
rc=$?
cp /tmp/gc_summary.log /tmp/gc/
tar czf $OUT/gc.tgz -C /tmp/gc --exclude='*.png' .
head -c 3000 /tmp/gc_summary.log | head -14
grep -h -E "passed|failed|memcheck subset|ERROR SUMMARY" /tmp/gc/*.log | sort | uniq -c | tail -8
echo rc=$rc
cd /tmp
for on in off on; do
  timeout 60 python3 "$R/scripts/probe_speed.py" --problems unet_up,kb81 --dtypes tf32,float16 --cudnn \
    --disjoint $on 2>&1 | grep ratio
done
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
GEMM_CONVT_PROBE_DISJOINT=on timeout 90 $NCU --kernel-name regex:disjoint_taps --launch-count 1 \
  --section SpeedOfLight --section Occupancy --section WarpStateStats --section ComputeWorkloadAnalysis \
  --section MemoryWorkloadAnalysis --section SchedulerStats --section InstructionStats \
  python3 "$R/scripts/ncu_col2im.py" unet_up float32 >"$OUT/ncu_unet.txt" 2>&1
grep -E "Duration|Throughput|Registers|Achieved Occ|Issued Warp|Eligible Warps|Executed Instructions " "$OUT/ncu_unet.txt"
