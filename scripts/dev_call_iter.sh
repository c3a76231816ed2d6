# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 33, call 3: the wgmma tests after the phase cases were re-sized (the fill rule
# refused the "sliced" layout's cropped inputs), the phases' A/B after the fill rule and the
# cap fix, and ncu's tensor-pipe use of the implicit wgmma kernel (kb69 split).
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel "$OUT/build.log"
echo "built at ${SECONDS}s"
cd /tmp
python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests/test_cuda.py" -q -k wgmma 2>&1 | tail -4
cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" /tmp/
for a in "--implicit on" ""; do python3 probe_speed.py --problems fcn_up,dcgan --dtypes split,tf32 $a 2>&1 | grep ours; done
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
GEMM_CONVT_PROBE_TF32=0 timeout 150 $NCU --clock-control none --kernel-name regex:implicit_wgmma_kernel --launch-skip 4 \
  --launch-count 1 --section SpeedOfLight \
  --metrics sm__pipe_tensor_op_gmma_cycles_active.avg.pct_of_peak_sustained_active,sm__inst_executed_pipe_tensor_op_gmma.sum \
  python3 "$R/scripts/ncu_col2im.py" kb69 float32 > "$OUT/ncu_kb69_split.txt" 2>&1
grep -E "Duration|Throughput|gmma|==ERR|error" "$OUT/ncu_kb69_split.txt" | head -20
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
