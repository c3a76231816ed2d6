# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 25, call 9: which side-stream workspace sizes keep every suite GEMM's kernel? GEMM
# kernels per problem (training TF32 over the suite; forwards of the columns problems) at 32,
# 16 and 8 MiB. Run on a tree with 7439531's cuda/gemm_graphs.* (the knob
# GEMM_CONVT_SIDE_WORKSPACE_BYTES; reverted on main in c858ed7).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "gemm_graphs" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
for ws in 33554432 16777216 8388608; do
  left=$((590 - SECONDS)); [ $left -gt 20 ] || break
  GEMM_CONVT_SIDE_WORKSPACE_BYTES=$ws timeout $left python3 $R/scripts/side_workspace_probe.py \
    dcgan,fcn_up,unet_up,kb81,kb71,kb75,kb78,kb65,kb69,kb57 tf32:train,tf32,float16,ieee \
    > "$OUT/ws_$ws.log" 2>&1
  echo "ws=$ws rc=$? at ${SECONDS}s"
done
cd $OUT && for ws in 16777216 8388608; do
  echo "== 32 MiB against $ws: differing cases"
  diff <(sed 's/ workspace=[0-9]* held [0-9]* MiB//' ws_33554432.log) \
       <(sed 's/ workspace=[0-9]* held [0-9]* MiB//' ws_$ws.log) | grep "^[<>]" | cut -c1-230
done
grep -h "held" ws_*.log | awk '{print $1, $2, $3, $4, $5, $6, $7}' | head -12
echo seconds=$SECONDS
