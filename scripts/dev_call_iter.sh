# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Prepared in session 34 for session 35's first call, from a checkout of branch alloc-held:
# main and alloc-held built side by side and A/B'd (scripts/ab_many.sh, two rounds; the extra
# memory to four decimals), the memory and chunking tests on alloc-held, then the split-weight
# rule's layer (fp32_rule_probe.py LAYERS[6]) and fcn_up on main's build. Prepare and carry:
#   for b in main alloc-held; do rm -rf build/$b && mkdir -p build/$b && git archive $b | tar -x -C build/$b; done
# carry: ["build/main", "build/alloc-held"]   (~5 min)
R=$(pwd)
{
VARIANTS="main:build/main held:build/alloc-held" \
  timeout 300 bash scripts/ab_many.sh "--problems dcgan,fcn_up,kb65,kb81 --dtypes tf32,split"
cd /tmp && PYTHONPATH=/tmp/ab/held timeout 120 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" \
  --rootdir "$R" "$R/tests/test_cuda.py" -q -k "extra_memory or chunked_workspace or several_samples or width_folding" \
  2>&1 | tail -3
echo "tested at ${SECONDS}s"
PYTHONPATH=/tmp/ab/main timeout $(( ${LIMIT:-560} - SECONDS )) python3 "$R/scripts/fp32_rule_probe.py" --layer 6 --layer 0
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
