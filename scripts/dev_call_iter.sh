# This session's last iteration call: the channels_last im2col with sizeof(col_t) planes per
# block (whole-sector column stores), its tests beside memcheck (GEMM + col2im, both layouts),
# then fcn_up's training step in both layouts with kernel times. Log: $OUT/iter.log.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "im2col" "$OUT/build.log"
MEMCHECK_CONFIGS=0 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 scripts/memcheck_cases.py > "$OUT/memcheck_0.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above, forever
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m cuda \
  -k "many_planes or layouts or autograd and (chunk or band or channels_last)" 2>&1 | tail -2
wait $mc; tail -1 "$OUT/memcheck_0.log"
P="python3 $R/scripts/probe_speed.py"
$P --problems fcn_up,dcgan --dtypes tf32,float16 --cudnn --channels-last --train --profile 2>&1 | grep -E " ms|im2col|col2im"
$P --problems fcn_up --dtypes tf32 --train --profile 2>&1 | grep -E " ms|im2col"
