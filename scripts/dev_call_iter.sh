# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 30, call 5: build and the CUDA tests alone (call 4's whole check ran out of time
# with memcheck beside the tests).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -2
echo "built at ${SECONDS}s"
(cd /tmp && timeout 170 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda \
  -rs -x 2>&1 | tail -12)
echo seconds=$SECONDS
