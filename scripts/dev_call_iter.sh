# This session's last device call: build, every CUDA test with memcheck of the disjoint
# config beside them, then the U-Net layer's timing in each dtype.
R=$(pwd)
source scripts/device_build.sh disjoint_taps_kernel "$OUT/build.log"
MEMCHECK_CONFIGS=6 timeout 280 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 scripts/memcheck_cases.py > "$OUT/memcheck_6.log" 2>&1 &
mc=$!
cd /tmp
timeout 280 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda 2>&1 | tail -4 | tee "$OUT/tests.log"
wait $mc; echo "memcheck rc=$?"; tail -2 "$OUT/memcheck_6.log"
P="python3 $R/scripts/probe_speed.py --problems unet_up"
$P --dtypes tf32,ieee,float16 --cudnn 2>&1 | grep ms
$P --dtypes tf32,ieee --disjoint off 2>&1 | grep ms
