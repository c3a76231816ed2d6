# This session's iteration call: build, then where channels_last outputs' time goes on the
# GEMM + col2im problems (dcgan, fcn_up: kernels beside cuDNN), and dcgan's TF32 forward in
# several fresh processes (host time against GPU time: issue 6's "none below 1.0" miss).
R=$(pwd)
source scripts/device_build.sh col2im_kernel "$OUT/build.log"
cd /tmp
P="python3 $R/scripts/probe_speed.py"
$P --problems dcgan,fcn_up --dtypes tf32,ieee,float16 --cudnn --channels-last --profile 2>&1 | grep -v "^ *[0-9.]* us *[0-9]*x  *\(void at::\|at::native\|elementwise\)" | head -80
$P --problems fcn_up --dtypes tf32 --cudnn --channels-last --train --profile 2>&1 | head -30
for i in 1 2 3 4; do
  $P --problems dcgan --dtypes tf32 --cudnn 2>&1 | grep ms
  python3 $R/scripts/step_gaps.py --problems dcgan --path ours --calls 3 2>&1 | grep -E "unprofiled|kernels" | sed -n "1p;\$p"
  python3 $R/scripts/step_gaps.py --problems dcgan --path cudnn --calls 3 2>&1 | grep -E "unprofiled|kernels" | sed -n "1p;\$p"
done
