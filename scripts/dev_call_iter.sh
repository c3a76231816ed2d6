# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Prepared in session 38 for session 39's first call: dcgan's columns GEMM is paced by its chunk
# width, not its workspace as such (stock cuBLAS, session 38 calls 7-9: three-part split at 9
# samples a chunk 0.64-0.68 ms, at 8 samples 0.471, at 16 0.337). (1) The same sweep for the
# split and TF32 shapes, no build. (2) The library's dcgan at caps that give 7-10 samples a
# chunk (the split GEMM's launch count tells the chunks), fp32 and TF32, kernel sums.
R=$(pwd)
{
cd $R/scripts
echo "== stock cuBLAS, dcgan's folded GEMM by chunk width"
timeout 60 python3 split_two_part_probe.py --samples 6,7,8,9,10,12,16,24,26,28 --parts three,one 2>&1 | grep -v arn
cd $R
source scripts/device_build.sh col2im_block_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for ws in 52 56 58 60 62 64; do
  echo "== workspace $ws MiB at ${SECONDS}s"
  timeout 40 python3 probe_speed.py --problems dcgan --dtypes fp32,tf32 --workspace $ws --profile 2>&1 \
    | grep -v "arn\|^ *$" | cut -c1-150 | head -12
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
