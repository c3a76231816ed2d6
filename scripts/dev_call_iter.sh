# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`, ~4 min, no carry).
# Session 42, call 2: the wgmma call's front and tail made shorter (NOTES.md "Session 42"):
# the phases' weights packed in one launch beside the first input packs, the rerun's weight
# one gated kernel, the guarded rerun a wave of blocks. Focused tests, step_gaps on fcn_up
# (strict, TF32), a cap A/B (64 against 72 MiB: 2 against 3 samples a chunk), then fcn_up,
# kb65, kb69 beside cuDNN and fcn_up beside torch's own (the bench).
R=$(pwd)
{
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/step_gaps.py $R/scripts/cuda_timing.py $R/scripts/probe_speed.py $R/scripts/env_ab.py /tmp/
timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "wgmma or implicit or non_finite or redo or memory or workspace or rule or guard" 2>&1 | tail -4
echo "== step_gaps at ${SECONDS}s"
for dtype in ieee tf32; do
  timeout 60 python3 step_gaps.py --problems fcn_up --dtype $dtype --kernels --calls 4 2>&1 | grep -v "arn" \
    | cut -c1-150
done
echo "== cap A/B at ${SECONDS}s"
timeout 60 python3 env_ab.py --env workspace --values 64,72 --problems fcn_up --dtypes fp32 --rounds 3 2>&1 | grep -v arn
echo "== beside cuDNN at ${SECONDS}s"
timeout 90 python3 probe_speed.py --problems fcn_up,kb65,kb69 --dtypes fp32,tf32 --cudnn 2>&1 | grep -v "arn"
echo "== bench fcn_up at ${SECONDS}s"
timeout 60 python3 -m gemm_convt.bench --problem fcn_up --warmup 3 --iters 20 2>&1 | grep -v arn | tail -15
echo seconds=$SECONDS
} 2>&1 | tee "$OUT/iter.log"
