# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 7: the wgmma implicit GEMM in the library: build, focused tests, A/B.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "implicit_wgmma_kernel\|pack_input_kernel" "$OUT/build.log"
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp && timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "wgmma or implicit_gemm or infinities or largest" 2>&1 | tail -15
echo "tests done at ${SECONDS}s"
cd $R/scripts
for v in 1 0; do
  GEMM_CONVT_WGMMA=$v timeout 150 python3 probe_speed.py --problems kb69,kb57,kb65,kb78,kb71 --dtypes fp32,tf32 \
    $( [ $v = 1 ] && echo --cudnn ) 2>&1 | grep -v "^ *$\|arn" | sed "s/^/wgmma=$v /"
done
echo seconds=$SECONDS
