# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 21, call 4: memcheck on the col2im block kernel (tests/test_col2im_blocks.py and
# memcheck config 5, which now has a block case), then fold_rule_probe with the blocks
# in: the half types on the suite's 4x4 stride-2 layers and the TF32 sweep (the rule's
# 64-192 channel rows). Logs in $OUT as they finish.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
if [ -z "$SKIP_BUILD" ]; then  # a warm machine keeps the last call's install
  source scripts/device_build.sh "col2im_block" "$OUT/build.log" | tail -4
  echo "built at ${SECONDS}s"
fi
cd /tmp
if [ -z "$SKIP_MEMCHECK" ]; then
(timeout 200 compute-sanitizer --tool memcheck --error-exitcode 99 python3 -m pytest -p no:cacheprovider \
  -c "$R/pyproject.toml" --rootdir "$R" "$R/tests/test_col2im_blocks.py" -q -m cuda > "$OUT/memcheck_tests.log" 2>&1;
 echo "memcheck tests rc=$?" >> "$OUT/memcheck_tests.log") &
pid1=$!
(MEMCHECK_CONFIGS=5 timeout 200 compute-sanitizer --tool memcheck --error-exitcode 99 \
  python3 "$R/scripts/memcheck_cases.py" > "$OUT/memcheck_5.log" 2>&1; echo "memcheck 5 rc=$?" >> "$OUT/memcheck_5.log") &
pid2=$!
wait $pid1 $pid2  # not a bare wait: that also waits for the tee above, forever
tail -3 "$OUT/memcheck_tests.log" "$OUT/memcheck_5.log"
echo "memcheck done at ${SECONDS}s"
fi
cp "$R/scripts/cuda_timing.py" "$R/scripts/fold_rule_probe.py" /tmp/
timeout 120 python3 fold_rule_probe.py --only fcn_up,dcgan,fcn_c64,wide_c512 --dtypes float16,bfloat16 --rounds 2 2>&1 | grep -v "^ *$\|arn"
timeout 150 python3 fold_rule_probe.py --sweep --dtypes tf32 --rounds 2 2>&1 | grep -v "^ *$\|arn"
echo seconds=$SECONDS
