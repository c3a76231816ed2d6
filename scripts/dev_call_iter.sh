# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 17: the packed weights come off the cap; focused tests, memcheck's implicit
# GEMM configs (4: unchunked, 5: a 250000-byte workspace) alone, extra memory of the wgmma problems.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -1
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp && timeout 100 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q \
  -k "wgmma or implicit_gemm" 2>&1 | tail -2
pids=()
for i in 4 5; do
  MEMCHECK_CONFIGS=$i timeout 280 compute-sanitizer --tool memcheck --error-exitcode 99 python3 $R/scripts/memcheck_cases.py \
    > $OUT/memcheck_$i.log 2>&1 & pids+=($!)
done
cd $R/scripts && timeout 120 python3 probe_speed.py --problems kb65,kb57,kb69 --dtypes fp32,tf32 2>&1 | grep -v "^ *$\|arn"
rc=0; for p in "${pids[@]}"; do wait $p || rc=1; done
echo "memcheck rc=$rc at ${SECONDS}s"; tail -n 2 $OUT/memcheck_4.log $OUT/memcheck_5.log
echo seconds=$SECONDS
