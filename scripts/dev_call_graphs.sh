# Session 16's last probe: where the chunk-graph loops' GPU time goes against the default loops
# (dcgan TF32, forward and training; kernel totals per call from the profiler), and the step's
# time with each, alternated.
R=$(pwd)
source scripts/device_build.sh pack_runs_kernel "$OUT/build.log" > /dev/null
cd /tmp
P="python3 $R/scripts/probe_speed.py --problems dcgan --dtypes tf32 --cudnn"
for g in on off; do
  echo "== graphs $g forward"; $P --graphs $g --profile 2>&1 | grep -v Warn | grep -v _warn | head -14
  echo "== graphs $g train"; $P --graphs $g --train --profile 2>&1 | grep -v Warn | grep -v _warn | head -16
done
for g in on off on off; do $P --graphs $g --train 2>&1 | grep ms; done
