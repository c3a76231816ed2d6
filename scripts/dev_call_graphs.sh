# Session 16's iteration call: build, the chunk-loop and chunking tests, then dcgan's forward and
# training with chunk graphs on (default) and off, beside cuDNN, and the other training problems.
R=$(pwd)
source scripts/device_build.sh pack_runs_kernel "$OUT/build.log"
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "${TEST_K:-chunk or several_samples or bitwise or graph or side_stream or autograd}" 2>&1 | tail -6 | tee "$OUT/tests.log"
P="python3 $R/scripts/probe_speed.py"
for g in auto off auto off; do
  $P --problems dcgan --dtypes tf32,ieee,float16 --cudnn --graphs $g 2>&1 | grep ms
done
for g in auto off auto off; do
  $P --problems dcgan --dtypes tf32,ieee --cudnn --train --graphs $g 2>&1 | grep ms
done
$P --problems fcn_up,unet_up,kb81 --dtypes tf32 --cudnn --train 2>&1 | grep ms
