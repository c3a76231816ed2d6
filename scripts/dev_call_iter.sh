# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 27, call 1: the wgmma split probe (scripts/wgmma_split_probe.cu), standalone.
exec > >(tee "$OUT/iter.log") 2>&1
nvidia-smi --query-gpu=name,clocks.sm,clocks.max.sm --format=csv,noheader
cd scripts && nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a -Xptxas -v wgmma_split_probe.cu \
  -o /tmp/probe 2> "$OUT/ptxas.log" || { cat "$OUT/ptxas.log"; exit 1; }
cuobjdump -sass /tmp/probe > "$OUT/probe.sass"; echo "HGMMA in SASS: $(grep -c HGMMA $OUT/probe.sass)"
/tmp/probe
echo seconds=$SECONDS
