# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~6 min, no carry).
# Session 37, call 2: the row form v5 (bias-only blocks on their own loop, straight-line stores,
# 32-bit staging offsets): build, focused CUDA tests, memcheck on the forced-gather config, kb81
# beside cuDNN and the columns path (--direct off), then ncu's stall samples per instruction.
R=$(pwd)
{
source scripts/device_build.sh gather_rows $OUT/build.log
echo "built at ${SECONDS}s"
(cd /tmp && timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R -q \
  $R/tests/test_cuda.py -k "gather or grid" 2>&1 | tail -4)
echo "tests done at ${SECONDS}s"
MEMCHECK_CONFIGS=3 timeout 100 compute-sanitizer --tool memcheck --error-exitcode 99 python3 scripts/memcheck_cases.py > $OUT/memcheck3.log 2>&1
echo "memcheck rc=$?"; grep -E "ERROR SUMMARY|mismatch" $OUT/memcheck3.log | head -5
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for args in "" "--direct off"; do
  echo "== probe $args"; timeout 50 python3 probe_speed.py --problems kb81 --dtypes ieee,tf32,float16 --cudnn --profile $args 2>&1 | grep -v "^ *$\|arn" | head -16
done
cd $R && NO_BUILD=1 KERNEL=gather_rows PROBLEM=kb81 GEMM_CONVT_PROBE_TF32=0 timeout 90 bash scripts/ncu_source.sh 2>&1 | tail -45
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
