# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Branch lean-front (prepared in session 41, unrun): less host work before a wgmma call's first
# products (the rerun's packed weight and the weight flags after the products are queued; the
# phases' views as pointers, not ATen slices). Focused tests, then step_gaps on fcn_up (strict,
# TF32) and kb65 strict against session 41's call 6, then fcn_up / kb65 beside cuDNN.
# Prediction: NOTES.md, branch lean-front.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/step_gaps.py $R/scripts/cuda_timing.py $R/scripts/probe_speed.py /tmp/
timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "wgmma or implicit or non_finite or redo or memory or workspace or rule" 2>&1 | tail -4
echo "== step_gaps at ${SECONDS}s"
for dtype in ieee tf32; do
  timeout 60 python3 step_gaps.py --problems fcn_up --dtype $dtype --kernels --calls 4 2>&1 | grep -v "arn" \
    | cut -c1-170 | head -22
done
timeout 60 python3 step_gaps.py --problems kb65 --dtype ieee --calls 4 2>&1 | grep -v "arn" | cut -c1-170
echo "== beside cuDNN at ${SECONDS}s"
timeout 90 python3 probe_speed.py --problems fcn_up,kb65,kb69 --dtypes fp32,tf32 --cudnn 2>&1 | grep -v "arn"
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
