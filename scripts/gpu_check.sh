#!/usr/bin/env bash
# One command for a GPU machine without network access: build the extension
# from this working tree with what is installed there, run the GPU tests,
# compute-sanitizer memcheck on a representative subset, the DDP check where
# there are two GPUs, and the benchmarks.
#   usage: bash scripts/gpu_check.sh LOGDIR [bench args...]
# Every step's log lands in LOGDIR; a summary is printed last. Exit status is
# non-zero if the build, the tests or memcheck failed.
set -uo pipefail
logs=${1:?usage: scripts/gpu_check.sh LOGDIR [bench args...]}
shift || true
mkdir -p "$logs" && logs=$(cd "$logs" && pwd)
cd "$(dirname "$0")/.."
export PYTHONUNBUFFERED=1
py=${PYTHON:-python3}
status=0
summary=()
step() {  # name, command...: runs it, logs to LOGDIR/name.log, records the outcome
  local name=$1; shift
  local t0=$SECONDS
  "$@" >"$logs/$name.log" 2>&1
  local rc=$?
  summary+=("$(printf '%-10s rc=%-3s %4ss  %s' "$name" "$rc" "$((SECONDS - t0))" "$(tail -n 1 "$logs/$name.log")")")
  return $rc
}

{
  date -u
  nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.max.sm --format=csv
  $py -c "import torch; print('torch', torch.__version__, 'cuda', torch.version.cuda, torch.cuda.get_device_name())"
  nvcc --version | tail -n 2
} >"$logs/env.log" 2>&1

# Build only for the GPU present (faster), CUDA required.
arch=$($py -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
step build env GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" \
  $py -m pip install --no-build-isolation --no-deps --no-index -v . || status=1
cat "$logs/build.log" >>"$logs/env.log" && mv "$logs/env.log" "$logs/build.log"  # env first, one file

if [ $status -eq 0 ]; then
  # Run from outside the tree so the installed package (with _C) is imported.
  # CUDA tests first (their count is the GPU result), then the rest of the suite.
  pytest_cmd="cd /tmp && $py -m pytest -p no:cacheprovider -c '$PWD/pyproject.toml' --rootdir '$PWD' '$PWD/tests' -q -rs"
  # GPU_CHECK_SKIP_CPU_TESTS=1: the CUDA tests only (CI runs the rest on a CPU machine).
  cpu_tests="&& $pytest_cmd -m 'not cuda'"
  [ -n "${GPU_CHECK_SKIP_CPU_TESTS:-}" ] && cpu_tests=""
  # memcheck: one compute-sanitizer process per config, or per case for the tiny-workspace
  # configs (memcheck_cases.py --jobs), GPU_CHECK_MEMCHECK_JOBS (16) at a time: their CPU-side
  # slowness, not the GPU, bounds them (~50 s a config). Beside the tests so that the whole
  # check fits one 600 s device call; GPU_CHECK_MEMCHECK_AFTER=1 starts them after the tests
  # instead (session 30: beside them, the tests ran 5x slower and the call's time ran out);
  # GPU_CHECK_MEMCHECK_TIMEOUT=S caps each. Logs: memcheck_<config>[_<case>].log.
  start_memcheck() {
    local cap=""
    [ -n "${GPU_CHECK_MEMCHECK_TIMEOUT:-}" ] && cap="timeout $GPU_CHECK_MEMCHECK_TIMEOUT"
    $py scripts/memcheck_cases.py --jobs >"$logs/memcheck_jobs.txt" || : >"$logs/memcheck_jobs.txt"
    xargs -P "${GPU_CHECK_MEMCHECK_JOBS:-16}" -L 1 bash -c \
      'MEMCHECK_CONFIGS=$1 MEMCHECK_CASES=${2:-} '"$cap"' compute-sanitizer --tool memcheck --error-exitcode 99 \
        "$0" scripts/memcheck_cases.py >"'"$logs"'/memcheck_$1${2:+_$2}.log" 2>&1' "$py" <"$logs/memcheck_jobs.txt" &
    memcheck_pid=$!
    memcheck_t0=$SECONDS
  }
  [ -n "${GPU_CHECK_MEMCHECK_AFTER:-}" ] || start_memcheck
  step tests bash -c "$pytest_cmd -m cuda --durations=8 $cpu_tests" || status=1
  [ -z "${GPU_CHECK_MEMCHECK_AFTER:-}" ] || start_memcheck
  # Two or more GPUs: DDP training of a converted U-Net vs one GPU (NCCL, NVLink multicast off).
  if [ "$(nvidia-smi -L 2>/dev/null | wc -l)" -ge 2 ]; then
    step ddp env NCCL_NVLS_ENABLE=0 TORCH_SYMM_MEM_DISABLE_MULTICAST=1 $py scripts/ddp_check.py || status=1
  fi
  step kernels bash -c "cd /tmp && $py '$PWD/scripts/kernel_names.py'" || status=1
  memcheck_rc=0
  wait "$memcheck_pid" || memcheck_rc=1  # xargs: non-zero if any process failed
  [ -s "$logs/memcheck_jobs.txt" ] || memcheck_rc=1  # no jobs listed: nothing was checked
  for log in "$logs"/memcheck_*.log; do
    echo "== $(basename "$log")"; tail -n 2 "$log"
  done >"$logs/memcheck.log"
  summary+=("$(printf '%-10s rc=%-3s %4ss  %s' memcheck "$memcheck_rc" "$((SECONDS - memcheck_t0))" \
    "$(grep -h 'ERROR SUMMARY' "$logs"/memcheck_*.log | sort | uniq -c | tr -s ' ' | tr '\n' ';')")")
  [ $memcheck_rc -eq 0 ] || status=1
fi
# Benchmarks run whenever the build worked (GPU_CHECK_SKIP_BENCH=1 skips them).
# Progress goes to stderr (kept in each log); a plot is drawn where matplotlib is installed.
if [ -f "$logs/tests.log" ] && [ -z "${GPU_CHECK_SKIP_BENCH:-}" ]; then
  bench() {  # step name, json name, bench args...
    local name=$1 json=$2; shift 2
    local plot=()
    $py -c "import matplotlib" 2>/dev/null && plot=(--plot "$logs/$json.png")
    step "$name" bash -c 'cd /tmp && "$0" -m gemm_convt.bench "${@:1}"' "$py" --json "$logs/$json.json" \
      "${plot[@]}" "$@"
  }
  bench bench bench_float32 --suite "$@"
  bench bench_fp16 bench_float16 --suite --dtype float16 "$@"
  bench bench_bf16 bench_bfloat16 --suite --dtype bfloat16 "$@"
  bench bench_train bench_train_float32 --suite --mode train "$@"
  bench bench_models bench_models --model dcgan --model unet --mode train --dtype float32,bfloat16 "$@"
fi

printf '%s\n' "${summary[@]}"
for f in kernels ddp bench bench_fp16 bench_bf16 bench_train bench_models; do [ -f "$logs/$f.log" ] && cat "$logs/$f.log"; done
grep -h -E "passed|failed" "$logs/tests.log" 2>/dev/null
exit $status
