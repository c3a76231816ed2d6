# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 26, call 2: float32 as three TF32 products -- the GEMM layouts probe
# (scripts/split_fold_probe.py) over the columns problems.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp && PYTHONPATH=$R python3 $R/scripts/split_fold_probe.py dcgan,fcn_up,kb71,kb78,kb65,kb57,kb69,kb75 2>&1
echo seconds=$SECONDS
