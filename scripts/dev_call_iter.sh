# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Prepared in session 32 for session 33's first call: the three unrun branches A/B'd against
# main in one lease (scripts/ab_many.sh), before any of them lands. Prepare and carry:
#   for b in main tf32-wgmma-rule wgmma-phases join-pairs; do
#     rm -rf build/$b && mkdir -p build/$b && git archive $b | tar -x -C build/$b; done
# carry: ["build/main", "build/tf32-wgmma-rule", "build/wgmma-phases", "build/join-pairs"]
# (~8 min: four parallel builds ~4, 16 probe runs ~4.) fcn_up / dcgan's defaults are in
# session 32's suite (BENCHMARKS). Then a second call runs the whole CUDA suite and memcheck
# on whatever lands.
R=$(pwd)
{
VARIANTS="main:build/main rule:build/tf32-wgmma-rule phases:build/wgmma-phases pairs:build/join-pairs" \
  timeout 540 bash scripts/ab_many.sh \
  "--problems kb57,kb65,kb69 --dtypes tf32,split --profile" \
  "--problems fcn_up,dcgan --dtypes split,tf32 --implicit on"
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
