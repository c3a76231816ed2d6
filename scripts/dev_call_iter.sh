# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 41, call 3: fp32_rule_probe's layers under TF32 (default, columns, implicit forced,
# cuDNN TF32: the data for a TF32 form of the phases' model), then dcgan's and fcn_up's strict
# kernel sums. Plan: NOTES.md session 41.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/fp32_rule_probe.py $R/scripts/cuda_timing.py /tmp/
echo "== TF32 rule probe at ${SECONDS}s"
timeout 150 python3 fp32_rule_probe.py --tf32 2>&1 | grep -v "arn\|^ *$" | cut -c1-200
echo "== strict profiles at ${SECONDS}s"
cp $R/scripts/probe_speed.py /tmp/
timeout 100 python3 probe_speed.py --problems dcgan,fcn_up --dtypes fp32 --profile --cudnn 2>&1 | grep -v "arn" | cut -c1-200
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
