# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 19, first call: where the width-folded forward's time goes, against the plain one
# (fcn_up, dcgan): wall and concurrent kernel sums (probe_speed), then each kernel alone
# (ncu serialises them). Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases|col2im_kernel" "$OUT/build.log"
cd /tmp
for fold in off on; do
  python3 "$R/scripts/probe_speed.py" --problems fcn_up,dcgan --dtypes tf32,float16 --cudnn --profile \
    --fold $fold 2>&1 | grep -v "^ *$\|arn"
done
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for case in "fcn_up float32" "fcn_up float16" "dcgan float32"; do
  read prob dt <<<"$case"
  for fold in off on; do
    echo "== ncu $prob $dt fold-$fold"
    GEMM_CONVT_PROBE_FOLD=$fold timeout 100 $NCU --profile-from-start off --clock-control none --csv --print-units base \
      --metrics gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum \
      python3 "$R/scripts/ncu_col2im.py" $prob $dt > /tmp/ncu_${prob}_${dt}_$fold.csv 2>/dev/null
    python3 "$R/scripts/ncu_sum.py" /tmp/ncu_${prob}_${dt}_$fold.csv
  done
done
echo seconds=$SECONDS
