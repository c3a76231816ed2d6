# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 24, call 5: GEMM graphs on against off in one process (host and wall against the
# cap), the host events of a graphed call, and memcheck of the graph tests.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
export PYTHONPATH="$R/scripts" PYTHONUNBUFFERED=1
timeout 150 compute-sanitizer --tool memcheck --error-exitcode 99 python3 -m pytest -p no:cacheprovider \
  -c "$R/pyproject.toml" --rootdir "$R" -q "$R/tests/test_gemm_graphs.py" > "$OUT/memcheck.log" 2>&1 & pm=$!
for i in 1 2; do
  python3 "$R/scripts/host_per_chunk.py" --problems fcn_up,dcgan --limits 64,128 --graphs both 2>&1 | grep -v Warn
  python3 "$R/scripts/host_per_chunk.py" --problems fcn_up,dcgan,unet_up,kb81 --limits 64 --graphs both --backward 2>&1 | grep -v Warn
done
python3 "$R/scripts/step_gaps.py" --problems fcn_up --events 16 2>&1 | grep -v Warn
python3 "$R/scripts/step_gaps.py" --problems dcgan --train --events 16 2>&1 | grep -v Warn
wait $pm; echo "memcheck rc=$? at ${SECONDS}s"; grep -E "ERROR SUMMARY|passed|failed" "$OUT/memcheck.log" | tail -3
echo seconds=$SECONDS
