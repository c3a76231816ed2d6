# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 25, call 5: col2im over band tiles, third version (registers capped for 4 blocks an SM,
# grid from the occupancy API) against the item walk: tests, col2im alone (ncu), forwards.
# The band tiles were reverted after it: their switches (_set_col2im_bands, probe_speed's --bands,
# GEMM_CONVT_PROBE_BANDS) exist only in 57ee99e's tree, where this script runs as it stands.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im_bands" "$OUT/build.log"
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
PY="python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R -q -x"
timeout 150 $PY $R/tests/test_col2im_bands.py $R/tests/test_col2im_blocks.py $R/tests/test_gemm_graphs.py \
  -m cuda 2>&1 | tail -4
echo "tests done at ${SECONDS}s"
timeout 100 compute-sanitizer --tool memcheck --error-exitcode 9 $PY $R/tests/test_col2im_bands.py -m cuda -k "not runs_on" \
  > "$OUT/memcheck.log" 2>&1; echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|passed|failed" "$OUT/memcheck.log" | tail -3
echo "memcheck done at ${SECONDS}s"
M=gpu__time_duration.sum,dram__bytes_read.sum,dram__bytes_write.sum,smsp__inst_executed.sum,launch__registers_per_thread,sm__warps_active.avg.pct_of_peak_sustained_active
for case in "fcn_up float32 0" "dcgan float32 0" "fcn_up float16 1"; do
  set -- $case
  for bands in off on; do
    echo "== $1 $2 tf32=$3 bands=$bands"
    GEMM_CONVT_PROBE_BANDS=$bands GEMM_CONVT_PROBE_TF32=$3 GEMM_CONVT_PROBE_FOLD=off GEMM_CONVT_PROBE_IMPLICIT=off \
      timeout 100 ncu --profile-from-start off --clock-control none -k regex:col2im -c 16 \
      --metrics $M --csv --print-units base python3 $R/scripts/ncu_col2im.py $1 $2 \
      > "$OUT/ncu_$1_$2_$bands.csv" 2> "$OUT/ncu_$1_$2_$bands.err" || tail -3 "$OUT/ncu_$1_$2_$bands.err"
    python3 $R/scripts/ncu_sum.py "$OUT/ncu_$1_$2_$bands.csv" | grep -v "^sum"
  done
done
echo "ncu done at ${SECONDS}s"
for round in 1; do
  for bands in off on; do
    echo "== forwards bands=$bands round $round"
    timeout 60 python3 $R/scripts/probe_speed.py --problems fcn_up,dcgan --dtypes ieee,float16,tf32 \
      --fold off --implicit off --bands $bands 2>&1 | grep -v "^ "
    timeout 40 python3 $R/scripts/probe_speed.py --problems dcgan,kb81,unet_up --dtypes ieee \
      --bands $bands 2>&1 | grep -v "^ "
  done
done
echo seconds=$SECONDS
