# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 41, call 5: where fcn_up split's products lose to the skeleton probe (1.27-1.30 ms
# summed against ~1.0 at the skeleton's rate). The phase sets at the 64 MiB cap (8 launches
# beside their packs) against 1024 MiB (one pack, then one launch of all 16 samples: the
# products with nothing beside them), kernel sums; then ncu's full set on one launch of the
# wgmma kernel at the default cap. Plan: NOTES.md session 41.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for ws in 64 1024 64 1024; do
  echo "== workspace $ws MiB at ${SECONDS}s"
  timeout 60 python3 probe_speed.py --problems fcn_up --dtypes split --implicit on --workspace $ws --profile 2>&1 \
    | grep -v "arn" | cut -c1-160
done
echo "== ncu at ${SECONDS}s"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
GEMM_CONVT_PROBE_IMPLICIT=on GEMM_CONVT_PROBE_TF32=0 timeout 200 $NCU --profile-from-start off \
  --kernel-name regex:implicit_wgmma_kernel --launch-skip 2 --launch-count 1 --set full \
  python3 $R/scripts/ncu_col2im.py fcn_up float32 > $OUT/ncu_fcn_up.txt 2>&1
echo "ncu rc=$?"
grep -E "Duration|Throughput|Registers Per|Achieved Occ|Theoretical Occ|Issued Warp|Eligible Warps|L2 Hit|L1/TEX Hit|Block Limit|Dynamic Shared|Executed Ipc|Warp Cycles Per Issued" $OUT/ncu_fcn_up.txt | head -30
grep -iE "stall|est\. speedup|bottleneck" $OUT/ncu_fcn_up.txt | cut -c1-220 | head -24
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
