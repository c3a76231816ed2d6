# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 15: the packed wgmma kernel with the chunks on two side streams (pack beside products);
# focused tests, memcheck on three wgmma cases, A/B against the mma.sync kernel.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -3
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
PT="python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R"
cd /tmp && timeout 200 $PT $R/tests/test_cuda.py $R/tests/test_autograd.py -q \
  -k "wgmma or implicit or infinities or largest or graph" 2>&1 | tail -4
echo "tests done at ${SECONDS}s"
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 99 $PT $R/tests/test_cuda.py -q -k \
  "test_wgmma_implicit_gemm and (0-float32-contiguous-bands or 4-tf32-sliced-default or 3-float32-channels_last-bands) or test_wgmma_non_finite" 2>&1 | tail -3
echo "memcheck rc=$? at ${SECONDS}s"
cd $R/scripts
for v in 1 0; do
GEMM_CONVT_WGMMA=$v timeout 150 python3 probe_speed.py --problems kb69,kb57,kb65 --dtypes fp32,tf32 $( [ $v = 1 ] && echo --profile ) 2>&1 | grep -v "^ *$\|arn" | grep -v "pack_weight\|elementwise" | sed "s/^/wgmma=$v /"
done
echo seconds=$SECONDS
