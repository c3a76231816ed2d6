# This session's kernel-iteration device call: build, the disjoint-taps tests, probes.
R=$(pwd)
source scripts/device_build.sh disjoint_taps_kernel "$OUT/build.log"
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda -k "disjoint or infinities or largest_value" 2>&1 | tail -4
P="python3 $R/scripts/probe_speed.py"
$P --problems unet_up --dtypes ieee,tf32 --cudnn 2>&1 | grep ms
$P --problems unet_up --dtypes ieee --disjoint off 2>&1 | grep ms
$P --problems kb81 --dtypes ieee --cudnn --disjoint on 2>&1 | grep ms
$P --problems kb81 --dtypes ieee --disjoint off 2>&1 | grep ms
$P --problems unet_up --dtypes ieee --train --cudnn 2>&1 | grep ms
