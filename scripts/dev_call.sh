set -u
R=$PWD
source scripts/device_build.sh implicit_gemm_kernel $OUT/build.log > /dev/null
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
cd /tmp
for c in "kb69 0" "kb69 1"; do set -- $c
GEMM_CONVT_PROBE_IMPLICIT=on GEMM_CONVT_PROBE_TF32=$2 $NCU --kernel-name regex:implicit_gemm_kernel --launch-count 1 \
  --metrics "regex:smsp__average_warps_issue_stalled_.*_per_issue_active\.ratio,regex:sm__pipe_.*_cycles_active\.avg\.pct_of_peak_sustained_active,regex:sm__inst_executed_pipe_.*\.avg\.pct_of_peak_sustained_active,smsp__issue_active.avg.pct_of_peak_sustained_active,sm__warps_active.avg.pct_of_peak_sustained_active,gpu__time_duration.sum,l1tex__data_pipe_lsu_wavefronts_mem_shared.sum,l1tex__data_bank_conflicts_pipe_lsu_mem_shared.sum,smsp__inst_executed.sum" \
  python3 $R/scripts/ncu_col2im.py $1 float32 > $OUT/ncu_$1_$2.txt 2>&1
echo "== $c"; grep -E "^\s+(sm|smsp|gpu|l1tex)__" $OUT/ncu_$1_$2.txt | awk '$NF+0 > 0.5 || /duration|inst_executed.sum|wavefronts|conflicts/' | sed 's/  */ /g' | head -60
done
