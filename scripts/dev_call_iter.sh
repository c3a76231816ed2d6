# This session's probe / iteration call (device tool: `bash scripts/dev_call_iter.sh`).
# Session 20, call 3: the TF32 fold against plain columns over a 4x4 stride-2 channel
# sweep (64..512 channels, two sizes) with each path's kernel parts and GEMM kernel name,
# to place the rule's TF32 condition (the held-out 128- and 192-channel shapes lost 10%).
R=$(pwd)
exec > >(tee "$OUT/iter.log") 2>&1
source scripts/device_build.sh "unfold_phases" "$OUT/build.log"
cd /tmp
timeout 300 python3 "$R/scripts/fold_rule_probe.py" --sweep --dtypes tf32 --profile > "$OUT/sweep.log" 2>&1
echo "sweep rc=$?"; grep -v "^ *$\|arn" "$OUT/sweep.log"
timeout 150 python3 "$R/scripts/fold_rule_probe.py" --held-out --dtypes tf32 --rounds 2 --profile > "$OUT/held.log" 2>&1
echo "held rc=$?"; grep -v "^ *$\|arn" "$OUT/held.log" | tail -16
echo seconds=$SECONDS
