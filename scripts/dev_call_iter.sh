# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~1 min, no carry).
# Session 42, call 7: cuBLAS's split columns GEMM per chunk size, dcgan's shapes (folded and
# plain), with stock torch.matmul: no library build.
R=$(pwd)
{
cd /tmp && cp $R/scripts/cuda_timing.py $R/scripts/chunk_gemm_probe.py /tmp/
timeout 100 python3 chunk_gemm_probe.py 2>&1 | grep -v arn
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
