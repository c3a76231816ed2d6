# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 28, call 1: the disjoint-taps wgmma kernel (unet_up A/B against the mma.sync kernel),
# the focused tests, kb65's TF32 training memory after the backward's cap fix.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "disjoint_wgmma_kernel\|implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -4
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd $R/scripts
for v in 1 0; do
  GEMM_CONVT_WGMMA=$v timeout 60 python3 probe_speed.py --problems unet_up --dtypes ieee,tf32 --profile \
    $( [ $v = 1 ] && echo --cudnn ) 2>&1 | grep -v "^ *$\|arn" | sed "s/^/wgmma=$v /"
done
echo "bench done at ${SECONDS}s"
(cd /tmp && timeout 240 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "wgmma or disjoint or split_products_non_finite or graph or infinities or largest" 2>&1 | tail -15)
echo "tests done at ${SECONDS}s"
timeout 60 python3 probe_speed.py --problems kb65 --dtypes tf32 --train 2>&1 | grep -v "^ *$\|arn"
timeout 60 python3 alloc_trace.py kb65 float32 train 2>&1 | tail -3 | cut -c1-1500
echo seconds=$SECONDS
