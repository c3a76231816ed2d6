# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 21, call 6: the whole check's float16 dcgan forward (0.524 ms, bfloat16 0.214,
# session 20 0.264) checked: fold_rule_probe on dcgan in both half types, then the bench
# row twice per dtype. Logs in $OUT.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im_block" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"
cd /tmp
cp "$R/scripts/cuda_timing.py" "$R/scripts/fold_rule_probe.py" /tmp/
timeout 60 python3 fold_rule_probe.py --only dcgan,fcn_up --dtypes float16,bfloat16 --rounds 3 --profile 2>&1 | grep -v "^ *$\|arn"
for dt in float16 bfloat16 float16 bfloat16; do
  timeout 40 python3 -m gemm_convt.bench --problem dcgan --dtype $dt --warmup 3 --iters 20 2>&1 | grep -E "^  (gemm|cuDNN|torch)"
done
echo seconds=$SECONDS
