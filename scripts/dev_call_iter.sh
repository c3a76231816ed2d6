# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 30, call 1: the wgmma epilogues (per-block column table, bias hoist) and the
# MbarRing refactor A/B against main (build/base), then the wgmma/disjoint/non-finite tests
# on the new build.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
timeout 420 bash scripts/ab_probe.sh build/base --problems unet_up,kb65,kb69,kb57 --dtypes fp32 --profile 2>&1 \
  | grep -v "^ *[0-9.]* us .*\(elementwise\|fill\|copy\|Memset\)"
echo "ab done at ${SECONDS}s"
(cd /tmp && PYTHONPATH=/tmp/ab/new timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R \
  $R/tests/test_cuda.py -q -x -k "wgmma or disjoint or non_finite or border" 2>&1 | tail -15)
echo seconds=$SECONDS
