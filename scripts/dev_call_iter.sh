# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 30, call 3: tiles across rows in the implicit wgmma kernel, against main (build/base):
# the tile probe on both builds, the A/B, focused tests and memcheck on the new build.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
timeout 400 bash scripts/ab_probe.sh build/base --problems kb65,kb69,kb57 --dtypes fp32,tf32 --profile 2>&1 \
  | grep -v "^ *[0-9.]* us .*\(elementwise\|fill\|copy\|Memset\|implicit_gemm_kernel\|pack_weight\)"
echo "ab done at ${SECONDS}s"
cp scripts/tile_waste_probe.py /tmp/ab/
for v in base new; do (cd /tmp/ab && PYTHONPATH=/tmp/ab/$v timeout 60 python3 tile_waste_probe.py 2>&1 | sed "s/^/$v /"); done
(cd /tmp && PYTHONPATH=/tmp/ab/new timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R \
  $R/tests/test_cuda.py -q -x -k "wgmma or implicit or non_finite or border" 2>&1 | tail -15)
echo "tests done at ${SECONDS}s"
(cd /tmp && PYTHONPATH=/tmp/ab/new MEMCHECK_CONFIGS=4,5 MEMCHECK_CASES=8,16,18 timeout 150 compute-sanitizer --tool memcheck \
  --error-exitcode 99 python3 $R/scripts/memcheck_cases.py 2>&1 | tail -6; echo "memcheck rc=${PIPESTATUS[0]}")
echo seconds=$SECONDS
