# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~5 min, no carry).
# Session 36, call 3: the row form with 4 rows a thread (weights loaded once for 4 rows):
# build, focused CUDA tests, memcheck on the forced-gather config, kb81 beside cuDNN and the
# previous default (--direct off), ncu on one row-form launch.
R=$(pwd)
{
source scripts/device_build.sh gather_rows $OUT/build.log
echo "built at ${SECONDS}s"
(cd /tmp && timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R -q -x \
  $R/tests/test_cuda.py -k "gather or grid" 2>&1 | tail -4)
echo "tests done at ${SECONDS}s"
MEMCHECK_CONFIGS=3 timeout 100 compute-sanitizer --tool memcheck --error-exitcode 99 python3 scripts/memcheck_cases.py > $OUT/memcheck3.log 2>&1
echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|mismatch" $OUT/memcheck3.log | head -5
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for args in "" "--direct off" "--channels-last"; do
  echo "== probe $args"; timeout 60 python3 probe_speed.py --problems kb81 --dtypes ieee,tf32,float16 --cudnn --profile $args 2>&1 | grep -v "^ *$\|arn" | head -16
done
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
GEMM_CONVT_PROBE_TF32=0 timeout 60 $NCU --profile-from-start off --kernel-name regex:gather_rows --launch-count 1 \
  --section SpeedOfLight --section Occupancy --section WarpStateStats --section SchedulerStats --section MemoryWorkloadAnalysis \
  python3 "$R/scripts/ncu_col2im.py" kb81 float32 > "$OUT/ncu_rows.txt" 2>&1
grep -E "Duration|Throughput|Registers|Achieved Occ|Issued Warp|Eligible Warps|Block Limit Reg|Hit Rate" "$OUT/ncu_rows.txt" | head -20
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
