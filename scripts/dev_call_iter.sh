# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 21, call 7: after the final read's refactor (col2im.h segment_walk, shared by the
# item and block walks): build, then the col2im, chunking, fold and test_cuda CUDA tests.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"
cd /tmp
timeout 150 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "col2im or chunking or width_folding or band or test_cuda or runs" > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -1 "$OUT/tests.log"
