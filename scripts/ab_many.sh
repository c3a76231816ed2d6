#!/usr/bin/env bash
# On the GPU machine: build several source trees side by side (pip --target, in parallel),
# then run probe_speed.py once per argument set for each build, alternating builds, for two
# rounds, in one lease. One call A/Bs several prepared branches against main.
#   usage: VARIANTS="main:build/base rule:build/rule ..." bash scripts/ab_many.sh "ARGS1" ["ARGS2" ...]
# Each variant is name:source_dir (e.g. `git archive BRANCH | tar -x -C build/NAME`, carried);
# each ARGS a quoted probe_speed.py argument string. Builds in /tmp/ab/NAME, their logs in
# $OUT/build_NAME.log.
set -u
R=$(pwd); OUT=${OUT:-/tmp/out}; mkdir -p "$OUT" /tmp/ab
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
jobs=$(( 16 / $(echo ${VARIANTS:?} | wc -w) )); [ $jobs -ge 1 ] || jobs=1
for v in $VARIANTS; do
  name=${v%%:*} src=$(cd "${v#*:}" && pwd)
  [ -d /tmp/ab/$name/gemm_convt ] && continue
  (cd "$src" && GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" CMAKE_BUILD_PARALLEL_LEVEL=$jobs \
    python3 -m pip install --no-build-isolation --no-deps --no-index --target /tmp/ab/$name . \
    >"$OUT/build_$name.log" 2>&1 || { echo "build $name failed"; tail -20 "$OUT/build_$name.log"; }) &
done
wait
echo "built at ${SECONDS}s"
cp "$R/scripts/probe_speed.py" "$R/scripts/cuda_timing.py" /tmp/ab/
cd /tmp/ab
for round in 1 2; do
  for args in "$@"; do
    for v in $VARIANTS; do
      name=${v%%:*}
      [ -d /tmp/ab/$name/gemm_convt ] || continue
      PYTHONPATH=/tmp/ab/$name python3 probe_speed.py $args 2>&1 | grep -v "^ *$\|arn" | sed "s/^/$name$round /"
    done
  done
done
