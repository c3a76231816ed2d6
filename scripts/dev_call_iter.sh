# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 29, call 1 (code at f030754): build; memcheck configs 1 and 6 alone (cut beside
# the tests last session); the CUDA non-finite border probe on every path; the FP32
# emulation probe (cuBLAS BF16x9 on sm_90?).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "disjoint_wgmma_kernel" "$OUT/build.log" | grep -v C7519 | tail -3
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
pids=()
for c in 1 6; do
  MEMCHECK_CONFIGS=$c timeout 400 compute-sanitizer --tool memcheck --error-exitcode 99 \
    python3 scripts/memcheck_cases.py > $OUT/memcheck_$c.log 2>&1 &
  pids+=($!)
done
SP=$(python3 -c "import site; print(site.getsitepackages()[0])")
nvcc -O2 -std=c++17 -arch=sm_90 scripts/fp32_emulation_probe.cu -I$SP/nvidia/cu13/include \
  -L$SP/nvidia/cu13/lib -l:libcublas.so.13 -Xlinker -rpath=$SP/nvidia/cu13/lib -o /tmp/emu 2>&1 | tail -3
[ -x /tmp/emu ] || nvcc -O2 -std=c++17 -arch=sm_90 scripts/fp32_emulation_probe.cu -lcublas -o /tmp/emu
(cd /tmp && python3 $R/scripts/border_probe.py 2>&1)
echo "border probe done at ${SECONDS}s"
[ -x /tmp/emu ] && timeout 120 /tmp/emu
echo "emulation probe done at ${SECONDS}s"
for p in "${pids[@]}"; do wait $p; done
for c in 1 6; do echo "memcheck $c: $(grep -h 'ERROR SUMMARY\|memcheck subset' $OUT/memcheck_$c.log | tr '\n' ' ')"; done
echo seconds=$SECONDS
