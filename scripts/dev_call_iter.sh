# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~6 min, no carry).
# Session 38: the wgmma phases' own cost model (wgmma_phases.cpp) in implicit_gemm_applies' rule.
# The focused tests (the phases, the default rules), fp32_rule_probe's ten stride-2 layers (does
# the default now run each at its best path?), then the float32 suite (fcn_up strict).
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log
echo "built at ${SECONDS}s"
cd /tmp
timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "wgmma_phases or rule" 2>&1 | tail -5
echo "== fp32_rule_probe at ${SECONDS}s"
cp $R/scripts/cuda_timing.py $R/scripts/fp32_rule_probe.py /tmp/
timeout 150 python3 fp32_rule_probe.py 2>&1 | grep -v "arn" | tee $OUT/fp32_rule_probe.log | grep "^N"
for i in 1 2; do
  echo "== float32 suite $i at ${SECONDS}s"
  timeout 100 python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 --json $OUT/bench_float32_$i.json > $OUT/bench_$i.log 2>&1
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
