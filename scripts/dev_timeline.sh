R=$(pwd)
source scripts/device_build.sh implicit_wgmma_kernel $OUT/build.log > /dev/null
echo "built at ${SECONDS}s"
cd /tmp && cp $R/scripts/step_gaps.py $R/scripts/cuda_timing.py /tmp/
timeout 60 python3 step_gaps.py --problems fcn_up --dtype ieee --timeline --calls 3 2>&1 | grep -v "arn" | cut -c1-140
for path in cudnn; do timeout 60 python3 step_gaps.py --problems fcn_up --dtype ieee --path $path --calls 3 2>&1 | grep -v arn | head -3; done
nproc; lscpu | grep -i "model name\|MHz"
