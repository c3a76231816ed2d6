R=$(pwd)
arch=$(python3 -c "import torch; print('%d.%d' % torch.cuda.get_device_capability())")
GEMM_CONVT_CUDA=ON TORCH_CUDA_ARCH_LIST="$arch" CMAKE_BUILD_PARALLEL_LEVEL=16 python3 -m pip install --no-build-isolation --no-deps --no-index -v . > /tmp/build.log 2>&1 || tail -30 /tmp/build.log
SO=$(python3 -c "import gemm_convt._C as c; print(c.__file__)" 2>/dev/null || find / -name "_C*.so" -path "*gemm_convt*" 2>/dev/null | head -1)
CUOBJ=$(which cuobjdump || find / -name cuobjdump -type f 2>/dev/null | head -1)
$CUOBJ -sass -fun disjoint_taps_kernel $SO > $OUT/sass.txt 2>&1 || $CUOBJ -sass $SO > $OUT/sass.txt 2>&1
ls -la $OUT/sass.txt
cd /tmp && timeout 200 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m "cuda and not slow" -k disjoint 2>&1 | tail -3
NCU=$(which ncu || ls /opt/nvidia/nsight-compute/*/ncu | head -1)
$NCU --kernel-name regex:disjoint_taps --launch-count 1 --section InstructionStats --section SourceCounters --section WarpStateStats python3 $R/scripts/ncu_col2im.py unet_up float32 > $OUT/ncu_src.txt 2>&1
grep -v "^ *$" $OUT/ncu_src.txt | tail -60
