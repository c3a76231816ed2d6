# This session's iteration call: build (register counts of col2im and im2col), the focused
# CUDA tests beside memcheck of GEMM + col2im (whole and chunked, both layouts), then
# channels_last and NCHW timings of the GEMM + col2im problems beside cuDNN.
R=$(pwd)
source scripts/device_build.sh "col2im\|im2col" "$OUT/build.log"
for i in 0 2; do
  MEMCHECK_CONFIGS=$i timeout 400 compute-sanitizer --tool memcheck --error-exitcode 99 \
    python3 scripts/memcheck_cases.py > "$OUT/memcheck_$i.log" 2>&1 &
done
cd /tmp
timeout 400 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda -k "${TEST_K:-tiled_col2im or channels_last or chunking or layouts or many_planes or band or fold}" 2>&1 \
  | tail -4 | tee "$OUT/tests.log"
wait; for i in 0 2; do tail -2 "$OUT/memcheck_$i.log"; done
P="python3 $R/scripts/probe_speed.py"
$P --problems dcgan,fcn_up --dtypes tf32,ieee,float16 --cudnn --channels-last --profile 2>&1 | grep -E " ms|col2im|gemm|Kernel|nvjet" | head -40
$P --problems fcn_up --dtypes tf32,float16 --cudnn --channels-last --train --profile 2>&1 | grep -E " ms|col2im|im2col|gemm|Kernel" | head -20
$P --problems dcgan,fcn_up,kb81 --dtypes tf32,float16 --cudnn 2>&1 | grep " ms"
