# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 25, call 1: does the item walk's per-item setup bound it? col2im alone (ncu) and
# forwards on unfolded columns with more tiles per work item (GEMM_CONVT_COL2IM_WAVES).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
M=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,smsp__inst_executed.sum
for case in "fcn_up float32 0" "dcgan float32 0" "fcn_up float16 1"; do
  set -- $case
  for waves in 4 2 1 0.5; do
    echo "== $1 $2 tf32=$3 waves=$waves"
    GEMM_CONVT_COL2IM_WAVES=$waves GEMM_CONVT_PROBE_TF32=$3 GEMM_CONVT_PROBE_FOLD=off \
      timeout 60 ncu --profile-from-start off --clock-control none -k regex:col2im_kernel -c 16 \
      --metrics $M --csv --print-units base python3 $R/scripts/ncu_col2im.py $1 $2 \
      > "$OUT/ncu_$1_$2_$waves.csv" 2>/dev/null
    python3 $R/scripts/ncu_sum.py "$OUT/ncu_$1_$2_$waves.csv" | grep -v "^sum"
  done
done
echo "ncu done at ${SECONDS}s"
for round in 1 2; do
  for waves in 4 1 0.5; do
    echo "== forwards waves=$waves round $round"
    GEMM_CONVT_COL2IM_WAVES=$waves timeout 60 python3 $R/scripts/probe_speed.py \
      --problems fcn_up,dcgan --dtypes ieee,float16 --fold off 2>&1 | grep -v "^ "
  done
done
echo seconds=$SECONDS
