# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 25, call 8: the 4 MiB side-stream workspace against torch's 32 MiB in training:
# GEMM kernels of forward + backward, and training steps alternating processes (call 7 had one
# sample each). GEMM_CONVT_SIDE_WORKSPACE_BYTES exists only in 7439531-644164a (reverted in c858ed7).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "gemm_graphs" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
TORCH_WS=33554432
for p in dcgan fcn_up unet_up; do
  for ws in $TORCH_WS default; do
    if [ $ws = default ]; then unset GEMM_CONVT_SIDE_WORKSPACE_BYTES; else export GEMM_CONVT_SIDE_WORKSPACE_BYTES=$ws; fi
    timeout 40 python3 $R/scripts/side_workspace_probe.py $p tf32 train 2>&1 | tail -1
  done
done
for round in 1 2 3; do
  for ws in $TORCH_WS default; do
    if [ $ws = default ]; then unset GEMM_CONVT_SIDE_WORKSPACE_BYTES; else export GEMM_CONVT_SIDE_WORKSPACE_BYTES=$ws; fi
    echo "== workspace $ws round $round"
    timeout 40 python3 $R/scripts/probe_speed.py --problems dcgan,fcn_up,kb81 --dtypes tf32 --train 2>&1 | grep -v "^ "
  done
done
echo seconds=$SECONDS
