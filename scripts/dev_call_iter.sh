# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~9 min, no carry).
# Session 39, call 3: build, then memcheck of configs 1 and 6 (the tiny workspaces, cut at
# their cap in every whole check since session 28), one process per case, 14 at a time.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
echo "== memcheck configs 1 and 6, a process per case, at ${SECONDS}s"
mkdir -p $OUT/mc
cases=$(cd /tmp && python3 -c "
import sys; sys.path.insert(1, '$R/scripts')  # after /tmp: the installed gemm_convt, not the checkout
import memcheck_cases as m
print(' '.join(str(i) for i, c in enumerate(m.CASES) if c[0] * c[4][0] * c[4][1] <= m.TINY_WORKSPACE_MAX_PIXELS))")
for cfg in 1 6; do for c in $cases; do echo "$cfg $c"; done; done | \
  xargs -P 14 -L 1 bash -c 'MEMCHECK_CONFIGS=$0 MEMCHECK_CASES=$1 timeout 420 compute-sanitizer --tool memcheck \
    --error-exitcode 99 python3 scripts/memcheck_cases.py > '$OUT'/mc/cfg$0_case$1.log 2>&1; echo "cfg $0 case $1 rc=$? at ${SECONDS}s"' &
mc_pid=$!
wait $mc_pid
echo "== memcheck summary at ${SECONDS}s"
grep -h "ERROR SUMMARY" $OUT/mc/*.log | sort | uniq -c
grep -h "memcheck subset" $OUT/mc/*.log | wc -l
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
