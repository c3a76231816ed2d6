# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, with
# main's source under build/base, carried).
# Session 32, call 3: (1) A/B of the implicit wgmma kernel's descriptors by offsets (branch
# desc-increments) against main (ab_probe.sh: kb69, kb65, kb57; split fp32 and TF32; two
# rounds); (2) the branch's whole CUDA test suite and memcheck on the wgmma cases; (3) stalls
# per SASS instruction on kb69 split with the branch; (4) the float32 suite on the branch in
# the time left. Output through one pipe (a bare `wait` after `exec > >(tee)` hung call 1).
R=$(pwd)
{
timeout 300 bash scripts/ab_probe.sh build/base --problems kb69,kb65,kb57 --dtypes fp32,tf32 --profile
echo "A/B done at ${SECONDS}s"
cd /tmp
PYTHONPATH=/tmp/ab/new timeout 150 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" \
  "$R/tests" -q -m cuda 2>&1 | tail -4
echo "tests done at ${SECONDS}s"
PYTHONPATH=/tmp/ab/new MEMCHECK_CONFIGS=0,4,5 MEMCHECK_CASES=8,16,18,19 timeout 80 compute-sanitizer --tool memcheck \
  --error-exitcode 99 python3 "$R/scripts/memcheck_cases.py" 2>&1 | tail -3
echo "memcheck done at ${SECONDS}s"
cd "$R"
PYTHONPATH=/tmp/ab/new NO_BUILD=1 KERNEL=implicit_wgmma_kernel PROBLEM=kb69 TAG=_kb69_new GEMM_CONVT_PROBE_TF32=0 \
  timeout 60 bash scripts/ncu_source.sh 2>&1 | tail -40
cd /tmp
left=$((570 - SECONDS))
PYTHONPATH=/tmp/ab/new timeout $left python3 -m gemm_convt.bench --suite --warmup 3 --iters 20 \
  --json "$OUT/bench_float32.json" > "$OUT/bench.log" 2>&1
echo "bench rc=$? seconds=$SECONDS"
} 2>&1 | tee "$OUT/iter.log"
