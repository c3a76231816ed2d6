# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 18, first call: where kb81's NCHW col2im time goes (ncu on one launch) and how
# each GEMM + col2im problem's forward changes with the workspace cap (so the chunk
# size against the 50 MB L2). Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log"
cd /tmp
P="python3 $R/scripts/probe_speed.py"
for cap in 16 32 64 128 256; do
  $P --problems kb81,dcgan,fcn_up --dtypes tf32,float16 --workspace $cap --profile > "$OUT/cap$cap.log" 2>&1
  grep -E " ms |col2im" "$OUT/cap$cap.log"
done
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
timeout 200 $NCU --kernel-name regex:col2im_kernel --launch-skip 4 --launch-count 1 --section SpeedOfLight \
  --section MemoryWorkloadAnalysis --section WarpStateStats --section Occupancy --section LaunchStats \
  --metrics dram__bytes_read.sum,dram__bytes_write.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum,l1tex__t_requests_pipe_lsu_mem_global_op_st.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum,l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum,smsp__inst_executed.sum \
  python3 "$R/scripts/ncu_col2im.py" kb81 float32 > "$OUT/ncu_kb81.txt" 2>&1
grep -E "Duration|Throughput|Registers|Achieved Occ|Theoretical Occ|Issued Warp|Eligible Warps|dram__|l1tex__|inst_executed|Grid Size|Block Size|Waves" "$OUT/ncu_kb81.txt"
echo seconds=$SECONDS
