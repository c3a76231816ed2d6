# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 26, call 9: the non-finite tests after their shared check moved into a helper.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "xxxx" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp && python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q \
  -k "infinities or non_finite or largest or split_rule" 2>&1 | tail -4
echo seconds=$SECONDS
