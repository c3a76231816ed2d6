# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 21, call 3: col2im blocks for width-folded columns only, and every col2im walk
# over its own h phase's cells (col2im.h phase_cells). Build; the col2im, chunking and
# fold CUDA tests; the forward A/B blocks on/off (scripts/col2im_block_ab.py); ncu on
# col2im alone. Logs in $OUT as they finish.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" | tail -12
echo "built at ${SECONDS}s"
cd /tmp
timeout 150 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "col2im or chunking or width_folding or band" > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -1 "$OUT/tests.log"
cp "$R/scripts/cuda_timing.py" "$R/scripts/col2im_block_ab.py" /tmp/
timeout 150 python3 col2im_block_ab.py --problems fcn_up,dcgan,kb65,kb78 --dtypes tf32 --rounds 3 2>&1 | grep -v "^ *$\|arn"
echo "ab done at ${SECONDS}s"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
ncu_col2im() {  # "VAR=value ..." problem dtype: col2im's launches of one forward, each alone
  echo "== ncu $*"
  env $1 timeout 60 $NCU --profile-from-start off --clock-control none -k regex:col2im \
    --csv --print-units base --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
    python3 "$R/scripts/ncu_col2im.py" $2 > /tmp/ncu.csv 2>/dev/null
  python3 "$R/scripts/ncu_sum.py" /tmp/ncu.csv
}
for pd in "fcn_up float32" "dcgan float32" "kb65 float32"; do
  ncu_col2im GEMM_CONVT_PROBE_BLOCKS=off "$pd"
  ncu_col2im GEMM_CONVT_PROBE_BLOCKS=on "$pd"
done
ncu_col2im GEMM_CONVT_PROBE_BLOCKS=on "fcn_up float16"
echo seconds=$SECONDS
