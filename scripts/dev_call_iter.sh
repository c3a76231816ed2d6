# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Branch kw-unrolled: the implicit wgmma kernel instantiated per kernel width 1-7, A/B'd in ONE
# build against its runtime-width fallback (GEMM_CONVT_WGMMA_ANY_WIDTH=1, read per call), two
# rounds alternating; then the wgmma tests in the time left. ~3.5 min.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" /tmp/
for round in 1 2; do
  for v in fixed any; do
    if [ $v = any ]; then export GEMM_CONVT_WGMMA_ANY_WIDTH=1; else unset GEMM_CONVT_WGMMA_ANY_WIDTH; fi
    python3 probe_speed.py --problems ${PROBLEMS:-kb69,kb65} --dtypes split,tf32 --profile 2>&1 |
      grep -E "ours|implicit_wgmma_kernel" | sed "s/^/$v$round /"
  done
done
unset GEMM_CONVT_WGMMA_ANY_WIDTH
echo "probed at ${SECONDS}s"
timeout $(( ${LIMIT:-215} - SECONDS )) python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" \
  --rootdir "$R" "$R/tests/test_cuda.py" -q -k wgmma 2>&1 | tail -3
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
