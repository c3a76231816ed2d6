# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 19, call 4: the final GPU code (the new unfold; col2im as at 0a58197): what bounds
# col2im and the unfold (ncu sections and stall reasons on one launch each), the fold and
# col2im CUDA tests, memcheck config 5 (folded GEMM + col2im in chunks). Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases" "$OUT/build.log"
cd /tmp
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
STALLS=$(for s in long_scoreboard lg_throttle drain mio_throttle wait barrier not_selected math_pipe_throttle \
  short_scoreboard no_instruction dispatch_stall imc_miss tex_throttle selected; do
  printf "smsp__warp_issue_stalled_%s_per_warp_active.pct," $s; done)
for case in "col2im_kernel fcn_up float32 off" "col2im_kernel dcgan float32 off" "unfold fcn_up float32 on"; do
  read kern prob dt fold <<<"$case"
  echo "== ncu $kern $prob $dt fold-$fold"
  GEMM_CONVT_PROBE_FOLD=$fold timeout 90 $NCU --profile-from-start off --clock-control none -k regex:$kern \
    --launch-skip 2 --launch-count 1 --section SpeedOfLight --section MemoryWorkloadAnalysis --section Occupancy \
    --section SchedulerStats --section WarpStateStats --section LaunchStats --metrics "${STALLS%,}" \
    python3 "$R/scripts/ncu_col2im.py" $prob $dt > /tmp/ncu_full.txt 2>&1
  grep -E "Duration|DRAM Throughput|Memory Throughput|L1/TEX Hit|L2 Hit|Mem Busy|Max Bandwidth|Achieved Occ|Theoretical Occ|Issued Warp|No Eligible|Eligible Warps|Active Warps Per|Warp Cycles Per Issued|Registers Per|Grid Size|Block Size|stalled" /tmp/ncu_full.txt | sed 's/  */ /g'
done
MEMCHECK_CONFIGS=5 timeout 280 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above
timeout 200 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m cuda \
  -k "width_folding or matches_torch or chunking or chunked or rerun" > "$OUT/tests.log" 2>&1
tail -2 "$OUT/tests.log"
wait $mc; echo "memcheck rc=$?"; tail -3 "$OUT/memcheck.log"
echo seconds=$SECONDS
