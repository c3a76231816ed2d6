#!/usr/bin/env bash
# On the GPU machine: build BASE_SRC (another checkout, e.g. `git archive REV` under
# build/) and this tree side by side (pip --target), then run probe_speed.py with
# the given arguments twice for each, alternating, in one lease: ab_many.sh with two
# variants, "base" and "new".
#   usage: bash scripts/ab_probe.sh BASE_SRC [probe_speed.py args...]   (logs in $OUT)
set -u
base_src=$1; shift
VARIANTS="base:$base_src new:." exec bash "$(dirname "$0")/ab_many.sh" "$*"
