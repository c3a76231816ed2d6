#!/usr/bin/env bash
# One device call for the by-sample columns GEMM and the overlap knob: build, focused
# tests, then by_sample_probe.py / probe_speed.py / host_per_chunk.py under each setting.
#   usage: bash scripts/by_sample_call.sh LOGDIR
set -uo pipefail
logs=${1:?usage: scripts/by_sample_call.sh LOGDIR}; mkdir -p "$logs"; root=$(pwd)
export PYTHONUNBUFFERED=1
source scripts/device_build.sh col2im_kernel "$logs/build.log"
cd /tmp
timeout 300 python3 -m pytest -p no:cacheprovider -c "$root/pyproject.toml" --rootdir "$root" \
  "$root/tests/test_cuda.py" -q -x -k "batched_over_samples or several_samples or chunked_workspace or test_grid" \
  2>&1 | tail -4 | tee "$logs/tests.log"
for env in "GEMM_CONVT_BY_SAMPLE=0" "GEMM_CONVT_BY_SAMPLE=1" "GEMM_CONVT_BY_SAMPLE=1 GEMM_CONVT_OVERLAP=0"; do
  echo "##### $env"
  env $env python3 "$root/scripts/by_sample_probe.py" 2>&1 | grep -v Warn
  env $env python3 "$root/scripts/probe_speed.py" --problems dcgan,fcn_up,kb81 --dtypes tf32,ieee --cudnn 2>&1 | grep -v Warn
  env $env python3 "$root/scripts/probe_speed.py" --problems dcgan,fcn_up --dtypes tf32 --cudnn --train 2>&1 | grep -v Warn
  env $env python3 "$root/scripts/host_per_chunk.py" --problems dcgan --limits 64 2>&1 | grep dcgan
  env $env python3 "$root/scripts/host_per_chunk.py" --problems dcgan --limits 64 --backward 2>&1 | grep dcgan
done 2>&1 | tee "$logs/probe.log"
