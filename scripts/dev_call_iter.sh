# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 20, call 11: the folded TF32 GEMM through a cached cuBLASLt plan (columns_gemm.cpp)
# against cuBLAS (GEMM_CONVT_FOLD_CUBLAS=1), one build, alternating processes; the width
# folding CUDA tests first. Logs in $OUT as they finish. That Lt routing and its
# GEMM_CONVT_FOLD_CUBLAS switch were reverted after this call (NOTES.md, session 20), so
# run as it stands the two variants below are the same build: rewrite it for the next call.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"
cd /tmp
timeout 40 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -x \
  -m cuda -k "width_folding" > "$OUT/tests.log" 2>&1
echo "tests rc=$?"; tail -1 "$OUT/tests.log"
cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" "$R/scripts/fold_rule_probe.py" /tmp/
for round in 1 2; do
  for v in lt cublas; do
    if [ $v = cublas ]; then export GEMM_CONVT_FOLD_CUBLAS=1; else unset GEMM_CONVT_FOLD_CUBLAS; fi
    timeout 25 python3 probe_speed.py --problems fcn_up,dcgan --dtypes tf32 --fold on 2>&1 | grep -v "^ *$\|arn" | sed "s/^/$v$round /"
    [ $round = 1 ] && timeout 25 python3 fold_rule_probe.py --only k4s2_128_64,k4s2_192_64 --dtypes tf32 --rounds 1 2>&1 | grep -v "^ *$\|arn" | sed "s/^/$v$round /"
  done
done
echo seconds=$SECONDS
