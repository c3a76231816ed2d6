# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 23, call 1: col2im's staged tiles on unfolded columns (col2im_staged.h): build
# (ptxas counts), the col2im / staged / chunking CUDA tests, ncu of col2im alone with the
# staged tiles (blocks on) against the item walk (blocks off), forwards on plain columns
# both ways in alternating processes. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im_staged\|col2im_kernel" "$OUT/build.log"
echo "built at ${SECONDS}s"
cd /tmp
timeout 150 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "staged or col2im or chunking or band" > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -3 "$OUT/tests.log"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
ncu_col2im() {  # blocks problem dtype
  echo "== ncu blocks-$1 $2 $3"
  GEMM_CONVT_PROBE_FOLD=off GEMM_CONVT_PROBE_BLOCKS=$1 timeout 60 $NCU --profile-from-start off \
    --clock-control none -k regex:"col2im" --csv --print-units base \
    --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
    python3 "$R/scripts/ncu_col2im.py" $2 $3 > /tmp/ncu.csv 2>/dev/null
  python3 "$R/scripts/ncu_sum.py" /tmp/ncu.csv
}
for pd in "fcn_up float32" "fcn_up float16" "dcgan float32" "dcgan float16"; do
  ncu_col2im off $pd
  ncu_col2im on $pd
done
echo "ncu done at ${SECONDS}s"
cd "$R/scripts"
for round in 1 2; do
  for blocks in off on; do
    timeout 60 python3 probe_speed.py --problems fcn_up,dcgan --dtypes tf32,ieee,float16 --fold off \
      --blocks $blocks --cudnn 2>&1 | grep -v Warning
  done
done
echo seconds=$SECONDS
