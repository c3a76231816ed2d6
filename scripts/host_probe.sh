#!/usr/bin/env bash
# Where a small problem's time goes, host against device, in one call:
# build, forward timing (ours and cuDNN, with the kernel profile), the training
# step's gaps and host timeline (ours, cuDNN), and host time against the cap.
#   usage: bash scripts/host_probe.sh LOGDIR [problems]   (default dcgan,kb81)
set -uo pipefail
logs=${1:?usage: scripts/host_probe.sh LOGDIR [problems]}; probs=${2:-dcgan,kb81}
mkdir -p "$logs"; root=$(pwd); export PYTHONUNBUFFERED=1
source scripts/device_build.sh "${PTXAS_KERNEL:-col2im_kernel}" "$logs/build.log"
cd /tmp
py() { echo "### $*"; python3 "$root/scripts/$@"; }
{
  py probe_speed.py --problems "$probs" --dtypes tf32,ieee --cudnn --profile
  py probe_speed.py --problems "$probs" --dtypes tf32 --cudnn --train --profile
  for path in ours cudnn; do py step_gaps.py --problems dcgan --train --path $path --calls 3; done
  py step_gaps.py --problems dcgan --train --path ours --calls 2 --timeline
  py host_per_chunk.py --problems dcgan --limits 64,128,256
  py host_per_chunk.py --problems dcgan --limits 64,256 --backward
} 2>&1 | tee "$logs/host_probe.log"
