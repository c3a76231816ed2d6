# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~5 min, no carry).
# Session 39, call 6 (NOTES.md): where the wgmma kernel's cycles go on fcn_up's stride
# phases and on kb69 (split float32, TF32 off), instruction by instruction (ncu source
# counters, -lineinfo build): the kernel runs at 117e12 / 101e12 multiply-adds a second, 57% /
# 50% of cuBLAS's TF32 rate, with neither the SM (66%) nor L2 (70%) saturated (session 39
# call 2). Session 39's call 3 (memcheck by case) is now part of gpu_check.sh.
R=$(pwd)
{
GEMM_CONVT_PROBE_TF32=0 KERNEL=implicit_wgmma_kernel PROBLEM=fcn_up TAG=_fcn_up bash scripts/ncu_source.sh
echo "== fcn_up done at ${SECONDS}s"
GEMM_CONVT_PROBE_TF32=0 KERNEL=implicit_wgmma_kernel PROBLEM=kb69 TAG=_kb69 NO_BUILD=1 bash scripts/ncu_source.sh
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
