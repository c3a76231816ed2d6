# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 26, call 1: float32 as three TF32 products on folded columns -- the GEMM probe
# (scripts/split_fold_probe.py) and today's IEEE / split / TF32 forwards with kernel times.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
python3 $R/scripts/split_fold_probe.py dcgan,fcn_up,kb71,kb78,kb65 2>&1
echo "probe done at ${SECONDS}s"
cd $R && source scripts/device_build.sh "xxxx" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"
cd /tmp
python3 $R/scripts/probe_speed.py --problems dcgan,fcn_up,unet_up --dtypes tf32,ieee,split --profile --cudnn 2>&1
echo seconds=$SECONDS
