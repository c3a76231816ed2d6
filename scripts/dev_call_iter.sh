# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 25, call 7: one 4 MiB cuBLAS workspace per side stream for eager and captured GEMMs
# (gemm_graphs.cpp) against torch's size (32 MiB): every CUDA test, memory held and GEMM kernels
# per suite problem, forwards of the suite and two training steps, alternating processes.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "gemm_graphs" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
timeout 330 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R -q $R/tests -m cuda \
  > "$OUT/tests.log" 2>&1; echo "tests rc=$?"; tail -2 "$OUT/tests.log"
echo "tests done at ${SECONDS}s"
TORCH_WS=33554432
for p in fcn_up dcgan kb71; do
  for k in tf32 ieee float16; do
    for ws in $TORCH_WS default; do
      if [ $ws = default ]; then unset GEMM_CONVT_SIDE_WORKSPACE_BYTES; else export GEMM_CONVT_SIDE_WORKSPACE_BYTES=$ws; fi
      timeout 30 python3 $R/scripts/side_workspace_probe.py $p $k 2>&1 | tail -1
    done
  done
done
unset GEMM_CONVT_SIDE_WORKSPACE_BYTES
echo "probe done at ${SECONDS}s"
for ws in $TORCH_WS default $TORCH_WS default; do
  if [ $ws = default ]; then unset GEMM_CONVT_SIDE_WORKSPACE_BYTES; else export GEMM_CONVT_SIDE_WORKSPACE_BYTES=$ws; fi
  left=$((590 - SECONDS)); [ $left -gt 30 ] || break
  echo "== workspace $ws"
  timeout $left python3 $R/scripts/probe_speed.py --dtypes tf32,ieee,float16 2>&1 | grep -v "^ "
  left=$((590 - SECONDS)); [ $left -gt 20 ] || break
  timeout $left python3 $R/scripts/probe_speed.py --problems dcgan,fcn_up --dtypes tf32 --train 2>&1 | grep -v "^ "
done
echo seconds=$SECONDS
