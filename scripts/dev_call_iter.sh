# This session's iteration call: the tiled col2im (channels_last outputs) after its change,
# focused tests beside memcheck of GEMM + col2im, then the tile shape (output-column lanes
# 8 / 16 / 32 forced by GEMM_CONVT_COL2IM_OW_LANES, a probe knob since removed) on dcgan and
# fcn_up, two rounds. Log: $OUT/iter.log.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im_tiled" "$OUT/build.log"
MEMCHECK_CONFIGS=0 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 scripts/memcheck_cases.py > "$OUT/memcheck_0.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above, forever
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda -k "tiled_col2im or channels_last or chunking or layouts or many_planes or band or fold" 2>&1 | tail -2
wait $mc; tail -2 "$OUT/memcheck_0.log"
P="python3 $R/scripts/probe_speed.py"
for round in 1 2; do
  for lanes in 32 16 8 ""; do
    echo "== round $round ow lanes ${lanes:-default}"
    GEMM_CONVT_COL2IM_OW_LANES=$lanes $P --problems dcgan,fcn_up --dtypes tf32,float16 --channels-last --profile \
      2>&1 | grep -E " ms|col2im" | sed -E 's/ *chunk=auto\/cl//; s/\(gemm_convt::Co.*//; s/void gemm_convt::col2im_tiled_kernel/  tiled/'
  done
done
$P --problems dcgan,fcn_up --dtypes tf32,float16 --channels-last --cudnn 2>&1 | grep " ms"
