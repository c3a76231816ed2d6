# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~9 min, no carry).
# Session 39, call 2: (1) build; (2) ncu on one launch of the wgmma conv kernel for fcn_up
# (strict: the stride phases) and kb69 (strict: stride 1), to say what bounds the phases;
# (3) memcheck of configs 1 and 6 (the tiny workspaces, cut at their cap in every whole check
# since session 28) one process per case, 14 at a time, beside (4) the rule tests the host
# tidy touches.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
cd /tmp
for prob in fcn_up kb69; do
  GEMM_CONVT_PROBE_TF32=0 timeout 90 $NCU --kernel-name regex:implicit_wgmma_kernel --launch-count 1 \
    --section SpeedOfLight --section LaunchStats --section Occupancy --section WarpStateStats \
    --metrics sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_tensor_op_gmma.sum,lts__t_bytes.sum,dram__bytes_read.sum,dram__bytes_write.sum \
    python3 "$R/scripts/ncu_col2im.py" $prob float32 > "$OUT/ncu_$prob.txt" 2>&1
  echo "== ncu $prob at ${SECONDS}s"
  grep -E "Duration|DRAM Throughput|Compute \(SM\) Throughput|Memory Throughput|Grid Size|Block Size|Registers Per|Achieved Occ|Waves Per SM|gmma|lts__t_bytes|dram__bytes|Stall|Warp Cycles Per Issued" "$OUT/ncu_$prob.txt" | head -24
done
cd $R
echo "== memcheck configs 1 and 6, a process per case, at ${SECONDS}s"
mkdir -p $OUT/mc
cases=$(python3 -c "
import sys; sys.path.insert(0, 'scripts')
import memcheck_cases as m
print(' '.join(str(i) for i, c in enumerate(m.CASES) if c[0] * c[4][0] * c[4][1] <= m.TINY_WORKSPACE_MAX_PIXELS))")
for cfg in 1 6; do for c in $cases; do echo "$cfg $c"; done; done | \
  xargs -P 14 -L 1 bash -c 'MEMCHECK_CONFIGS=$0 MEMCHECK_CASES=$1 timeout 330 compute-sanitizer --tool memcheck \
    --error-exitcode 99 python3 scripts/memcheck_cases.py > '$OUT'/mc/cfg$0_case$1.log 2>&1; echo "cfg $0 case $1 rc=$? at ${SECONDS}s"' &
mc_pid=$!
echo "== rule tests at ${SECONDS}s"
(cd /tmp && timeout 200 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" -q -x \
  "$R/tests/test_cuda.py" "$R/tests/test_split_rule.py" "$R/tests/test_fold_rule.py" -k "phases or gather or rule or implicit" \
  2>&1 | tail -4)
wait $mc_pid
echo "== memcheck summary at ${SECONDS}s"
grep -h "ERROR SUMMARY" $OUT/mc/*.log | sort | uniq -c
grep -h "memcheck subset" $OUT/mc/*.log | wc -l
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
