# Session 16's iteration call: build, the chunk-graph tests, then dcgan's training step under
# probe knobs, alternated, each in its own process (the knobs are read once):
#   A default; B GEMM_CONVT_BACKWARD_OWN=0 (the backward's old loop, forward graphs only);
#   C GEMM_CONVT_LOOP_BLAS_MIB=16; D graphs off. Kernel totals for A and B.
R=$(pwd)
source scripts/device_build.sh pack_runs_kernel "$OUT/build.log" > /dev/null
cd /tmp
timeout 200 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q \
  -m cuda -k "${TEST_K:-chunk}" 2>&1 | grep -E "passed|failed|Error|assert" | tail -12 | tee "$OUT/tests.log"
P="python3 $R/scripts/probe_speed.py --problems dcgan --dtypes tf32 --cudnn --train"
for round in 1 2; do
  echo "round $round: A"; $P 2>&1 | grep ms
  echo "B"; GEMM_CONVT_BACKWARD_OWN=0 $P 2>&1 | grep ms
  echo "C"; GEMM_CONVT_LOOP_BLAS_MIB=16 $P 2>&1 | grep ms
  echo "D"; $P --graphs off 2>&1 | grep ms
done
echo "A kernels"; $P --profile 2>&1 | grep -v "^dcgan" | sort -rn | head -14
echo "B kernels"; GEMM_CONVT_BACKWARD_OWN=0 $P --profile 2>&1 | grep -v "^dcgan" | sort -rn | head -14
echo "C forward"; GEMM_CONVT_LOOP_BLAS_MIB=16 python3 $R/scripts/probe_speed.py --problems dcgan --dtypes tf32,ieee --cudnn 2>&1 | grep ms
echo "A forward"; python3 $R/scripts/probe_speed.py --problems dcgan --dtypes tf32,ieee --cudnn 2>&1 | grep ms
