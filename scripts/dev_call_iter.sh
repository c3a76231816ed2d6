# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~6 min, no carry).
# Prepared in session 37 for session 38's first call: the two strict-geomean leads session 37
# saw and left. (1) kb65's default against the split path (split ran 3-9% faster in every
# call-5 run): which kernels each runs, beside cuDNN strict. (2) The wgmma phases against the
# default on the stride-2 upsampling layers (fcn_up 8-10% faster on phases), the data a
# phases cost model would be fitted on (fp32_rule_probe's ten layers, kernels listed).
R=$(pwd)
{
source scripts/device_build.sh gather_rows $OUT/build.log
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py $R/scripts/fp32_rule_probe.py /tmp/
echo "== kb65 default / split"
timeout 90 python3 probe_speed.py --problems kb65 --dtypes ieee,split --cudnn --profile 2>&1 | grep -v "^ *$\|arn" | head -24
echo "== fp32_rule_probe (all layers) at ${SECONDS}s"
timeout 200 python3 fp32_rule_probe.py 2>&1 | grep -v "arn" | tee $OUT/fp32_rule_probe.log | tail -60
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
