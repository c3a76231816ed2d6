# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, carry
# build/ab_base = `git archive f12fbc3`). Session 18: col2im runs for disjoint taps against
# the base (A/B, alternating, one lease), then the focused CUDA tests and memcheck of GEMM +
# col2im (configs 0 and 1), then ncu on one kb81 launch of the runs kernel. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
bash scripts/ab_probe.sh build/ab_base --problems kb81 --dtypes tf32,ieee,float16 --cudnn --profile \
  > "$OUT/ab.log" 2>&1
grep -E " ms |col2im" "$OUT/ab.log"
cd /tmp/ab
for v in base new; do
  PYTHONPATH=/tmp/ab/$v python3 probe_speed.py --problems unet_up --dtypes tf32,float16 --disjoint off --profile 2>&1 \
    | grep -E " ms |col2im" | sed "s/^/$v /"
done
cd /tmp
export PYTHONPATH=/tmp/ab/new
MEMCHECK_CONFIGS=0,1 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m cuda \
  -k "runs or matches_torch or chunking or tiled_col2im or rerun or poisoned or opinfo" > "$OUT/tests.log" 2>&1
tail -3 "$OUT/tests.log"
wait $mc; tail -2 "$OUT/memcheck.log"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
timeout 150 $NCU --kernel-name regex:col2im_runs_kernel --launch-skip 4 --launch-count 1 --section SpeedOfLight \
  --section WarpStateStats --section Occupancy --section LaunchStats \
  --metrics dram__bytes_read.sum,dram__bytes_write.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_st.sum,l1tex__t_requests_pipe_lsu_mem_global_op_st.sum,l1tex__t_sectors_pipe_lsu_mem_global_op_ld.sum,l1tex__t_requests_pipe_lsu_mem_global_op_ld.sum,smsp__inst_executed.sum \
  python3 "$R/scripts/ncu_col2im.py" kb81 float32 > "$OUT/ncu_kb81_runs.txt" 2>&1
grep -E "Duration|Throughput|Registers|Achieved Occ|dram__|l1tex__|inst_executed|Grid Size|Waves" "$OUT/ncu_kb81_runs.txt"
echo seconds=$SECONDS
