# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`,
# carry ["build/ab_base"]). Session 19, call 3: col2im with each item's tap pairs found
# once (all of a tile's loads in flight) and the new unfold, against the base (HEAD
# before both): forward A/B plain and folded, each kernel alone under ncu, then the
# col2im / fold CUDA tests and memcheck configs 0, 5 on the new build. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
bash scripts/ab_probe.sh build/ab_base --problems fcn_up,dcgan --dtypes tf32,float16 --profile --cudnn
bash scripts/ab_probe.sh build/ab_base --problems fcn_up --dtypes tf32,float16 --fold on --profile
cd /tmp
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for case in "fcn_up float32 off" "fcn_up float16 off" "dcgan float32 off" "fcn_up float32 on"; do
  read prob dt fold <<<"$case"
  for v in base new; do
    echo "== ncu $prob $dt fold-$fold ($v)"
    PYTHONPATH=/tmp/ab/$v GEMM_CONVT_PROBE_FOLD=$fold timeout 60 $NCU --profile-from-start off --clock-control none \
      --csv --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
      python3 "$R/scripts/ncu_col2im.py" $prob $dt > /tmp/ncu.csv 2>/dev/null
    python3 "$R/scripts/ncu_sum.py" /tmp/ncu.csv | grep -v "elementwise\|Memset"
  done
done
MEMCHECK_CONFIGS=0,5 PYTHONPATH=/tmp/ab/new timeout 170 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above
PYTHONPATH=/tmp/ab/new timeout 170 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" \
  "$R/tests" -q -m cuda -k "width_folding or matches_torch or chunking or tiled_col2im or runs or chunked or rerun" > "$OUT/tests.log" 2>&1
tail -3 "$OUT/tests.log"
wait $mc; echo "memcheck rc=$?"; tail -3 "$OUT/memcheck.log"
echo seconds=$SECONDS
