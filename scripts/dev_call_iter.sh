# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 26, call 5: split TF32 by default where the fold halves the columns (robust parts,
# small products first): focused tests, then the suite's float32 forwards, default / IEEE / split.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases|fold_weight|make_split" "$OUT/build.log"
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q \
  -k "width_folding or test_grid or split or infinities or largest" 2>&1 | tail -6
echo "tests at ${SECONDS}s"
python3 $R/scripts/probe_speed.py --problems dcgan,fcn_up --dtypes fp32 --profile --cudnn 2>&1
python3 $R/scripts/probe_speed.py --problems dcgan,fcn_up,unet_up,kb81,kb75,kb71,kb78,kb65,kb69 --dtypes fp32,ieee,split 2>&1
echo seconds=$SECONDS
