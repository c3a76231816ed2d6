# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 24, call 4: cuBLAS GEMMs replayed from CUDA graphs (cuda/gemm_graphs.*), the
# forward's one-buffer loop and the backward's loop on a side stream. Build; the graph
# tests and the CUDA tests whose calls make cuBLAS GEMMs; then graphs on / off in
# alternating processes: forwards and training steps beside cuDNN, host against the cap.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
export PYTHONPATH="$R/scripts" PYTHONUNBUFFERED=1
timeout 260 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" -q -x \
  "$R/tests/test_gemm_graphs.py" "$R/tests/test_torch_integration.py" "$R/tests/test_autograd.py" \
  "$R/tests/test_cuda.py" -m cuda -k "graphs or integration or autograd or chunk or several or layouts or folding_grid or bitwise or determin or capture or stream" \
  > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -3 "$OUT/tests.log"
for round in 1 2; do
  for g in on off; do
    echo "== round $round graphs $g"
    python3 "$R/scripts/probe_speed.py" --problems fcn_up,dcgan,kb81,unet_up,kb71 --dtypes tf32,float16 --cudnn --graphs $g 2>&1 | grep -v Warn
    python3 "$R/scripts/probe_speed.py" --problems dcgan,fcn_up,unet_up,kb81 --dtypes tf32 --cudnn --train --graphs $g 2>&1 | grep -v Warn
  done
done
python3 "$R/scripts/host_per_chunk.py" --problems fcn_up,dcgan --limits 64 2>&1 | grep -v Warn
python3 "$R/scripts/host_per_chunk.py" --problems fcn_up,dcgan --limits 64 --backward 2>&1 | grep -v Warn
echo seconds=$SECONDS
