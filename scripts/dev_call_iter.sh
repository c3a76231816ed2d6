# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Prepared in session 39 for the next session's first call. fcn_up strict runs its four stride phases on
# the wgmma kernel at 109e12 multiply-adds a second over the whole call (54% of cuBLAS's TF32
# rate). The kernel's skeleton alone runs at 85-97% of the peak (wgmma_fill_probe.cu), so
# the question is: are the products slow beside the other stream's packs? fcn_up split float32
# at the default cap (two buffers, each chunk's pack beside the other's products) against a
# 1024 MiB cap (one chunk a phase: pack, then products, nothing beside them), kernel sums.
# Prediction (NOTES.md session 39, "Next"): write it there before the run.
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/probe_speed.py $R/scripts/cuda_timing.py /tmp/
for ws in 64 1024 64 1024; do
  echo "== fcn_up, workspace $ws MiB at ${SECONDS}s"
  timeout 60 python3 probe_speed.py --problems fcn_up --dtypes fp32 --implicit on --workspace $ws --profile 2>&1 \
    | grep -v "arn\|^ *$" | cut -c1-150 | head -8
done
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
