# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 6: the wgmma probe's bulk-staged kernel (producer warp, mbarriers).
exec > >(tee "$OUT/iter.log") 2>&1
nvidia-smi --query-gpu=name --format=csv,noheader
cd scripts && nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a wgmma_split_probe.cu -o /tmp/probe 2>/dev/null || exit 1
timeout 120 /tmp/probe
echo seconds=$SECONDS
