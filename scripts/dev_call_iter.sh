# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 26, call 3: split TF32 on folded columns (three K blocks in the unfold and the
# folded weight): focused tests, then dcgan / fcn_up forwards, IEEE against split.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases|fold_weight" "$OUT/build.log"
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests/test_cuda.py -q -x \
  -k "width_folding or test_grid" 2>&1 | tail -4
echo "tests at ${SECONDS}s"
python3 $R/scripts/probe_speed.py --problems dcgan,fcn_up --dtypes ieee,split --implicit off --profile 2>&1
python3 $R/scripts/probe_speed.py --problems dcgan,fcn_up,kb71,kb78,kb65 --dtypes ieee,split 2>&1
echo seconds=$SECONDS
