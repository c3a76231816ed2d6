# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 31, call 2: branch tile-rule (the implicit wgmma tile by shared memory) against
# main (A/B walls), then the focused tests on the new build.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
[ -f build/base/CMakeLists.txt ] || { echo "carry build/base (git archive main)"; exit 1; }
timeout 330 bash scripts/ab_probe.sh build/base --problems kb65,kb69,kb57 --dtypes fp32,tf32
echo "ab done at ${SECONDS}s"
(cd /tmp && PYTHONPATH=/tmp/ab/new timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda \
  -k "wgmma or implicit or non_finite or border" -x 2>&1 | tail -6)
echo "tests done at ${SECONDS}s"
echo seconds=$SECONDS
