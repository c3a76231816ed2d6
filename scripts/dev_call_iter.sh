# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 28, call 4: the disjoint-taps wgmma kernel looping over tiles (two blocks per SM, 6 or 3 buffers):
# unet_up A/B against the mma.sync kernel, ncu, the focused tests.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "disjoint_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -4
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd $R/scripts
for v in 1 0; do
  GEMM_CONVT_WGMMA=$v timeout 60 python3 probe_speed.py --problems unet_up --dtypes ieee,tf32 --profile \
    $( [ $v = 1 ] && echo --cudnn ) 2>&1 | grep -v "^ *$\|arn" | sed "s/^/wgmma=$v /"
done
echo "bench done at ${SECONDS}s"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for tf in 1 0; do
  (cd /tmp && GEMM_CONVT_PROBE_TF32=$tf $NCU --kernel-name regex:disjoint_wgmma --launch-count 1 --section SpeedOfLight \
    --section Occupancy --section LaunchStats --section WarpStateStats --section SchedulerStats \
    python3 $R/scripts/ncu_col2im.py unet_up float32 > $OUT/ncu_$tf.txt 2>&1)
  grep -E "Duration|DRAM Throughput|Compute \(SM\)|Registers Per|Shared Memory Config|Block Limit Reg|Block Limit Shared|Achieved Occ|Issued Warp|Warp Cycles Per Issued" $OUT/ncu_$tf.txt | sed "s/^/tf32=$tf /"
done
(cd /tmp && timeout 240 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q \
  -k "wgmma or disjoint or split_products_non_finite or graph or infinities or largest" 2>&1 | tail -8)
echo seconds=$SECONDS
