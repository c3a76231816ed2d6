# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 24, call 6: the GEMM graph counts (eager, captured, replayed, evicted) beside
# host and wall, graphs off then on; why captures fail under compute-sanitizer.
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "col2im" "$OUT/build.log" > /dev/null
echo "built at ${SECONDS}s"; nvidia-smi --query-gpu=name --format=csv,noheader
cd /tmp
export PYTHONPATH="$R/scripts" PYTHONUNBUFFERED=1
GEMM_CONVT_GEMM_GRAPHS_DEBUG=1 timeout 150 compute-sanitizer --tool memcheck --error-exitcode 99 python3 -m pytest \
  -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" -q "$R/tests/test_gemm_graphs.py" -k user_stream > "$OUT/memcheck.log" 2>&1 & pm=$!
timeout 100 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" -q "$R/tests/test_gemm_graphs.py" 2>&1 | tail -2
for i in 1 2; do
  python3 "$R/scripts/host_per_chunk.py" --problems kb81,unet_up,dcgan,fcn_up --limits 64 --graphs both --backward 2>&1 | grep -v Warn
done
python3 "$R/scripts/host_per_chunk.py" --problems fcn_up,dcgan,kb81 --limits 64 --graphs both 2>&1 | grep -v Warn
wait $pm; echo "memcheck rc=$? at ${SECONDS}s"; grep -E "gemm_convt|ERROR SUMMARY|passed|failed" "$OUT/memcheck.log" | sort | uniq -c | head
echo seconds=$SECONDS
