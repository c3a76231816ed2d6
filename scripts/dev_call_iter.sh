# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Prepared in session 31 for session 32 (branch session32-prep): where the implicit wgmma
# kernel's warps stall, per source line (ncu source counters; kb69 split takes the 256-position
# tile, kb57 split the 128), then memcheck configs 1 and 6 with the wide cases skipped and 4, 5
# with the new 256-tile case.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
KERNEL=implicit_wgmma_kernel PROBLEM=kb69 TAG=_kb69 GEMM_CONVT_PROBE_TF32=0 bash scripts/ncu_source.sh
echo "ncu kb69 done at ${SECONDS}s"
NO_BUILD=1 KERNEL=implicit_wgmma_kernel PROBLEM=kb57 TAG=_kb57 GEMM_CONVT_PROBE_TF32=0 bash scripts/ncu_source.sh
echo "ncu kb57 done at ${SECONDS}s"
for i in 1 4 5 6; do
  (MEMCHECK_CONFIGS=$i timeout 300 compute-sanitizer --tool memcheck --error-exitcode 99 \
    python3 scripts/memcheck_cases.py > "$OUT/memcheck_$i.log" 2>&1; echo "config $i rc=$? at ${SECONDS}s") &
done
wait
for i in 1 4 5 6; do tail -2 "$OUT/memcheck_$i.log"; done
echo seconds=$SECONDS
