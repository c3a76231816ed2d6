# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, on
# branch three-stages with main's source under build/base, carried).
# Session 32, call 2: (1) A/B of the third shared-memory stage against main (ab_probe.sh:
# kb69 and kb65, split fp32 and TF32, two rounds); (2) where the implicit wgmma kernel's warps
# stall, per SASS instruction, on kb69 split for both builds; (3) the branch's focused CUDA
# tests and memcheck on the wgmma cases. Each step capped so the call returns inside 560 s.
# (Session 32's call 1 hung here after its work: `exec > >(tee ...)` and a bare `wait`, which
# also waits for the tee. Output now goes through one pipe, and waits name their jobs.)
R=$(pwd)
{
timeout 330 bash scripts/ab_probe.sh build/base --problems kb69,kb65 --dtypes fp32,tf32 --profile
echo "A/B done at ${SECONDS}s"
for v in base new; do
  PYTHONPATH=/tmp/ab/$v NO_BUILD=1 KERNEL=implicit_wgmma_kernel PROBLEM=kb69 TAG=_kb69_$v GEMM_CONVT_PROBE_TF32=0 \
    timeout 60 bash scripts/ncu_source.sh
  echo "ncu kb69 $v done at ${SECONDS}s"
done
cd /tmp
PYTHONPATH=/tmp/ab/new timeout 100 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" \
  "$R/tests" -q -m cuda -k "wgmma or implicit or non_finite or border" 2>&1 | tail -5
echo "tests done at ${SECONDS}s"
PYTHONPATH=/tmp/ab/new MEMCHECK_CONFIGS=0,4 MEMCHECK_CASES=16,18,19 timeout 80 compute-sanitizer --tool memcheck \
  --error-exitcode 99 python3 "$R/scripts/memcheck_cases.py" 2>&1 | tail -3
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
