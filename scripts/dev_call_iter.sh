# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 24, call 9: side streams of our own behind a per-device lock (a GEMM capture
# holds only its thread's call). Build; every CUDA test; dcgan / fcn_up TF32 training and
# forwards with graphs on and off.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
export PYTHONPATH="$R/scripts" PYTHONUNBUFFERED=1
timeout 380 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" "$R/tests" -q -m cuda \
  > "$OUT/tests.log" 2>&1
echo "tests rc=$? at ${SECONDS}s"; tail -2 "$OUT/tests.log"
for g in on off on; do
  python3 "$R/scripts/probe_speed.py" --problems dcgan,fcn_up --dtypes tf32 --cudnn --train --graphs $g 2>&1 | grep -v Warn
done
python3 "$R/scripts/host_per_chunk.py" --problems fcn_up,dcgan --limits 64 --graphs both 2>&1 | grep -v Warn
echo seconds=$SECONDS
