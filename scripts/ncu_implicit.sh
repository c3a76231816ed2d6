#!/usr/bin/env bash
# On the GPU machine: build, then ncu (full set) on one launch of the implicit
# GEMM kernel (forced on) per case "problem:tf32" ("1" TF32, "0" float32 by
# three products).   usage: CASES="kb71:1 kb71:0" bash scripts/ncu_implicit.sh  (logs in $OUT)
R=$(pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT"
[ -n "${NO_BUILD:-}" ] || source scripts/device_build.sh implicit_gemm_kernel "$OUT/build.log"
cd /tmp
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
for case in ${CASES:-kb71:1 kb71:0 kb69:1}; do
  prob=${case%%:*}; tf32=${case##*:}
  GEMM_CONVT_PROBE_IMPLICIT=on GEMM_CONVT_PROBE_TF32=$tf32 $NCU --kernel-name regex:implicit_gemm_kernel \
    --launch-count 1 --set full python3 "$R/scripts/ncu_col2im.py" $prob float32 >"$OUT/ncu_${prob}_$tf32.txt" 2>&1
  echo "== $case"
  grep -E "Duration|DRAM Throughput|Compute \(SM\) Throughput|Registers Per|Achieved Occ|Theoretical Occ|Issued Warp|Eligible Warps|Executed Instructions  |L2 Hit|Block Limit|Dynamic Shared" "$OUT/ncu_${prob}_$tf32.txt" | head -20
  grep -iE "stall|est\. speedup" "$OUT/ncu_${prob}_$tf32.txt" | head -12
done
