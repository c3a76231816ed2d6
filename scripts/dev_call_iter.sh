# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 28, call 5: the disjoint-taps wgmma kernel for split float32 only (one block a tile,
# two per SM: call 3's form): unet_up A/B, the focused tests, ncu stalls per source line.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
CMAKE_ARGS="-DCMAKE_CUDA_FLAGS=-lineinfo" GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" CMAKE_BUILD_PARALLEL_LEVEL=16 \
  python3 -m pip install --no-build-isolation --no-deps --no-index -v . > $OUT/build.log 2>&1 || { tail -30 $OUT/build.log; exit 1; }
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd $R/scripts
for v in 1 0; do
  GEMM_CONVT_WGMMA=$v timeout 60 python3 probe_speed.py --problems unet_up --dtypes ieee,tf32 --profile \
    $( [ $v = 1 ] && echo --cudnn ) 2>&1 | grep -v "^ *$\|arn" | sed "s/^/wgmma=$v /"
done
(cd /tmp && timeout 240 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q \
  -k "wgmma or disjoint or split_products_non_finite or graph or infinities or largest" 2>&1 | tail -4)
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
cd /tmp && GEMM_CONVT_PROBE_TF32=0 $NCU --kernel-name regex:disjoint_wgmma --launch-count 1 --import-source yes \
  --section SourceCounters --section WarpStateStats --section SpeedOfLight -o /tmp/src -f \
  python3 $R/scripts/ncu_col2im.py unet_up float32 > $OUT/ncu_run.log 2>&1
$NCU --import /tmp/src.ncu-rep --page source --csv --print-source cuda > $OUT/ncu_source.csv 2>&1
$NCU --import /tmp/src.ncu-rep --page details --print-details all > $OUT/ncu_details.txt 2>&1
grep -iE "stall|Duration" $OUT/ncu_details.txt | head -30
echo seconds=$SECONDS
