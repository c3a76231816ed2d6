# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 29, call 5 (code as call 4): build; the gradients' NaN/inf pattern with non-finite
# weights at taps that miss the input (border_backward_probe.py), CUDA against torch's.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "border_redo_kernel" "$OUT/build.log" | grep -v C7519 | tail -2
echo "built at ${SECONDS}s"
(cd /tmp && timeout 60 python3 $R/scripts/border_backward_probe.py cuda 2>&1 | grep -v -i warn)
echo seconds=$SECONDS
