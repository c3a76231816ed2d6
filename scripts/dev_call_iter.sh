# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Prepared in session 33 for the next session's first call: branch kw-unrolled (the implicit
# wgmma kernel instantiated per kernel width 1-7, so a step's products issue as one run) A/B'd
# against main, then the wgmma tests on the branch's build. Prepare and carry:
#   for b in main kw-unrolled; do rm -rf build/$b && mkdir -p build/$b && git archive $b | tar -x -C build/$b; done
# carry: ["build/main", "build/kw-unrolled"]   (~7 min: two builds ~2.5, 8 probe runs ~3, tests ~0.5)
R=$(pwd)
{
VARIANTS="main:build/main kw:build/kw-unrolled" \
  timeout 480 bash scripts/ab_many.sh \
  "--problems kb57,kb65,kb69 --dtypes tf32,split --profile" \
  "--problems fcn_up --dtypes split,tf32 --implicit on"
cd /tmp && PYTHONPATH=/tmp/ab/kw timeout 100 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" \
  --rootdir "$R" "$R/tests/test_cuda.py" -q -k wgmma 2>&1 | tail -3
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
