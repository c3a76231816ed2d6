# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 18, last call: the final GPU code's build, the col2im CUDA tests (functional
# grid, chunking, runs, tiled) and memcheck config 0 (GEMM + col2im). Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log"
cd /tmp
MEMCHECK_CONFIGS=0 timeout 150 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck.log" 2>&1 &
mc=$!  # waited for by pid: a bare wait would also wait for the tee above
timeout 150 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m cuda \
  -k "runs or matches_torch or chunking or tiled_col2im" > "$OUT/tests.log" 2>&1
tail -2 "$OUT/tests.log"
wait $mc; tail -2 "$OUT/memcheck.log"
echo seconds=$SECONDS
