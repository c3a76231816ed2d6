# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 18, third call: col2im runs of four columns (the row's walk shared), kernel sums
# on kb81 and unet_up (disjoint kernel off), the focused CUDA tests and memcheck of GEMM +
# col2im (configs 0 and 1), then ncu's instruction count on one kb81 launch. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im_runs" "$OUT/build.log"
cd /tmp
P="python3 $R/scripts/probe_speed.py"
$P --problems kb81 --dtypes tf32,ieee,float16 --cudnn --profile 2>&1 | grep -E " ms |col2im"
$P --problems unet_up --dtypes tf32,float16 --disjoint off --profile 2>&1 | grep -E " ms |col2im"
MEMCHECK_CONFIGS=0,1 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m cuda \
  -k "runs or matches_torch or chunking or rerun or poisoned" > "$OUT/tests.log" 2>&1
tail -2 "$OUT/tests.log"
wait $mc; tail -2 "$OUT/memcheck.log"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
timeout 120 $NCU --kernel-name regex:col2im_runs_kernel --launch-skip 4 --launch-count 1 --section SpeedOfLight \
  --section Occupancy --metrics dram__bytes_read.sum,dram__bytes_write.sum,smsp__inst_executed.sum \
  python3 "$R/scripts/ncu_col2im.py" kb81 float32 > "$OUT/ncu_kb81_runs.txt" 2>&1
grep -E "Duration|Throughput|Registers|Achieved Occ|dram__|inst_executed" "$OUT/ncu_kb81_runs.txt"
echo seconds=$SECONDS
