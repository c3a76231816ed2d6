# The session's device call (run with the device tool: `bash scripts/dev_call.sh`): the whole check.
set -u
GPU_CHECK_SKIP_CPU_TESTS=1 bash scripts/gpu_check.sh /tmp/gc --warmup 3 --iters 20 > /tmp/gc_summary.log 2>&1
rc=$?
cp /tmp/gc_summary.log /tmp/gc/
tar czf $OUT/gc.tgz -C /tmp/gc --exclude='*.png' .
head -c 3000 /tmp/gc_summary.log | head -14
grep -h -E "passed|failed|memcheck subset|ERROR SUMMARY" /tmp/gc/*.log | sort | uniq -c | tail -8
echo rc=$rc
