# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`,
# carry ["build/ab_base"]). Session 19, call 5: the unfold's second version (each pass's
# loads issued together, the phases' taps in shared memory) against the first (HEAD), the
# unfold alone under ncu, the fold tests and memcheck config 5 on it; then the host's pace
# per core (taskset) with the new build. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
lscpu | grep -E "Model name|Socket|NUMA|CPU\(s\)|MHz" ; nvidia-smi topo -m | head -4
bash scripts/ab_probe.sh build/ab_base --problems fcn_up,dcgan --dtypes tf32,float16 --fold on --profile
cd /tmp
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for v in base new; do
  for dt in float32 float16; do
    echo "== ncu unfold fcn_up $dt ($v)"
    PYTHONPATH=/tmp/ab/$v GEMM_CONVT_PROBE_FOLD=on timeout 60 $NCU --profile-from-start off --clock-control none \
      -k regex:unfold --csv --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
      python3 "$R/scripts/ncu_col2im.py" fcn_up $dt > /tmp/ncu.csv 2>/dev/null
    python3 "$R/scripts/ncu_sum.py" /tmp/ncu.csv
  done
done
for core in 0 5 10 15; do
  PYTHONPATH=/tmp/ab/new timeout 60 taskset -c $core python3 "$R/scripts/host_cores_probe.py" 2>&1 | grep cores
done
MEMCHECK_CONFIGS=5 PYTHONPATH=/tmp/ab/new timeout 200 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above
PYTHONPATH=/tmp/ab/new timeout 150 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" \
  "$R/tests" -q -m cuda -k "width_folding" > "$OUT/tests.log" 2>&1
tail -2 "$OUT/tests.log"
wait $mc; echo "memcheck rc=$?"; tail -2 "$OUT/memcheck.log"
echo seconds=$SECONDS
