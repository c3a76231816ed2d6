# The session's device call (run with the device tool: `bash scripts/dev_call.sh`): the whole
# check, then, in the time left under the call's 600 s, the channels_last forward of the GEMM +
# col2im and disjoint-taps problems. Everything lands in $OUT/gc.tgz.
set -u
GPU_CHECK_SKIP_CPU_TESTS=1 timeout 530 bash scripts/gpu_check.sh /tmp/gc --warmup 3 --iters 20 > /tmp/gc_summary.log 2>&1
rc=$?
left=$((580 - SECONDS))
if [ $left -gt 30 ]; then
  (cd /tmp && timeout $left python3 -m gemm_convt.bench --problem dcgan --problem fcn_up --problem unet_up \
    --problem kb81 --channels-last --dtype float32,float16 --warmup 3 --iters 20 --json /tmp/gc/bench_cl.json \
    > /tmp/gc/bench_cl.log 2>&1)
fi
cp /tmp/gc_summary.log /tmp/gc/
tar czf $OUT/gc.tgz -C /tmp/gc --exclude='*.png' .
head -c 3000 /tmp/gc_summary.log | head -14
grep -h -E "passed|failed|memcheck subset|ERROR SUMMARY" /tmp/gc/*.log | sort | uniq -c | tail -8
echo rc=$rc seconds=$SECONDS
