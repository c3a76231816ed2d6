#!/usr/bin/env bash
# One device call for the forward's chunk plan (buffers, input packed once or per chunk):
# build, focused tests, then the small problems' timings under the cost model's choice and
# with two buffers forced (GEMM_CONVT_OVERLAP=1), alternating.
#   usage: bash scripts/plan_call.sh LOGDIR
set -uo pipefail
logs=${1:?usage: scripts/plan_call.sh LOGDIR}; mkdir -p "$logs"; root=$(pwd)
export PYTHONUNBUFFERED=1
source scripts/device_build.sh col2im_kernel "$logs/build.log"
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$root/pyproject.toml" --rootdir "$root" \
  "$root/tests/test_cuda.py" "$root/tests/test_autograd.py" "$root/tests/test_functional.py" -q -x -m cuda \
  -k "several_samples or chunked_workspace or test_grid or workspace or bitwise" 2>&1 | tail -4 | tee "$logs/tests.log"
python3 "$root/scripts/probe_speed.py" --problems dcgan --dtypes tf32,ieee --profile 2>&1 | grep -v Warn | tee "$logs/profile.log"
for env in "GEMM_CONVT_PLAN=model" "GEMM_CONVT_OVERLAP=1" "GEMM_CONVT_PLAN=model" "GEMM_CONVT_OVERLAP=1"; do
  echo "##### $env"
  env $env python3 "$root/scripts/probe_speed.py" --problems dcgan,fcn_up,kb81 --dtypes tf32,ieee --cudnn 2>&1 | grep -v Warn
  env $env python3 "$root/scripts/probe_speed.py" --problems dcgan,fcn_up --dtypes tf32 --cudnn --train 2>&1 | grep -v Warn
  env $env python3 "$root/scripts/host_per_chunk.py" --problems dcgan --limits 64 2>&1 | grep dcgan
  env $env python3 "$root/scripts/host_per_chunk.py" --problems dcgan --limits 64 --backward 2>&1 | grep dcgan
done 2>&1 | tee "$logs/probe.log"
