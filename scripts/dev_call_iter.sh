# This session's last iteration call: build, the disjoint-taps tests (every layout) with
# memcheck of the disjoint config beside them, then channels_last and NCHW timings beside cuDNN.
R=$(pwd)
source scripts/device_build.sh disjoint_taps_kernel "$OUT/build.log"
MEMCHECK_CONFIGS=6 timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 scripts/memcheck_cases.py > "$OUT/memcheck_6.log" 2>&1 &
mc=$!
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda ${TEST_K:+-k "$TEST_K"} 2>&1 | tail -4 | tee "$OUT/tests.log"
wait $mc; echo "memcheck rc=$?"; tail -2 "$OUT/memcheck_6.log"
P="python3 $R/scripts/probe_speed.py"
$P --problems unet_up,kb81 --dtypes tf32,ieee,float16 --cudnn --channels-last 2>&1 | grep ms
$P --problems unet_up --dtypes tf32,ieee,float16 --cudnn 2>&1 | grep ms
