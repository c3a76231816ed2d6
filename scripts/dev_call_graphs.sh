# Session 16's iteration call: build, the chunk-loop and chunking tests, then dcgan's forward and
# training with chunk graphs on (default) and off, beside cuDNN, where the step's time goes, and
# the other training problems.
R=$(pwd)
source scripts/device_build.sh pack_runs_kernel "$OUT/build.log"
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda -k "${TEST_K:-chunk or several_samples or bitwise or graph or side_stream or autograd}" 2>&1 \
  | grep -E "passed|failed|Error|assert" | tail -12 | tee "$OUT/tests.log"
P="python3 $R/scripts/probe_speed.py"
for g in auto off; do
  $P --problems dcgan --dtypes tf32,ieee,float16 --cudnn --graphs $g 2>&1 | grep ms
done
for g in auto off auto off auto; do
  $P --problems dcgan --dtypes tf32 --cudnn --train --graphs $g 2>&1 | grep ms
done
cd "$R/scripts"
for path in ours cudnn; do
  timeout 120 python3 step_gaps.py --problems dcgan --train --path $path --calls 4 --events 30 2>&1 | tail -45
done
cd /tmp
$P --problems fcn_up,unet_up,kb81 --dtypes tf32 --cudnn --train 2>&1 | grep ms
