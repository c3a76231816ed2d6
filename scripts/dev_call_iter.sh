# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 30, call 2: the wgmma issue rate by form (wgmma_rate_probe.cu), then a build and
# ncu (full set) on one kb65 and one kb69 launch of the implicit wgmma kernel (split float32).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a scripts/wgmma_rate_probe.cu -o /tmp/rate && /tmp/rate
echo "probe done at ${SECONDS}s"
source scripts/device_build.sh "implicit_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -4
echo "built at ${SECONDS}s"
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for prob in kb65 kb69; do
  (cd /tmp && GEMM_CONVT_PROBE_IMPLICIT=on GEMM_CONVT_PROBE_TF32=0 timeout 150 $NCU --kernel-name regex:implicit_wgmma_kernel \
    --launch-skip 2 --launch-count 1 --set full python3 "$R/scripts/ncu_col2im.py" $prob float32 >"$OUT/ncu_$prob.txt" 2>&1)
  echo "== $prob"
  grep -E "Duration|Compute \(SM\) Throughput|Registers Per|Achieved Occ|Issued Warp|Shared|Tensor|Pipe|L1/TEX Hit|Mem Busy|Max Bandwidth" "$OUT/ncu_$prob.txt" | head -30
  grep -iE "stall|est\. speedup" "$OUT/ncu_$prob.txt" | head -10
done
echo seconds=$SECONDS
