# This session's last iteration call: build, every CUDA test with memcheck of the disjoint
# config beside them, then channels_last timings under the default rule beside cuDNN.
R=$(pwd)
source scripts/device_build.sh disjoint_taps_kernel "$OUT/build.log"
MEMCHECK_CONFIGS=6 timeout 330 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 scripts/memcheck_cases.py > "$OUT/memcheck_6.log" 2>&1 &
mc=$!
cd /tmp
timeout 330 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda 2>&1 | tail -4 | tee "$OUT/tests.log"
wait $mc; echo "memcheck rc=$?"; tail -2 "$OUT/memcheck_6.log"
python3 $R/scripts/probe_speed.py --problems unet_up,kb81 --dtypes tf32,ieee,float16 --cudnn --channels-last 2>&1 | grep ms
