TEST_TIMEOUT=400 TEST_K="disjoint or grid" PTXAS_KERNEL=disjoint_taps_kernel bash scripts/dev_iter.sh $OUT/it --problems unet_up --dtypes tf32,float16,bfloat16 --cudnn
R=$(pwd); cd /tmp
P="python3 $R/scripts/probe_speed.py --problems unet_up"
$P --dtypes tf32,float16 --disjoint off 2>&1 | grep ms
$P --dtypes tf32,float16 --channels-last --disjoint on --cudnn 2>&1 | grep ms
$P --dtypes tf32,float16 --channels-last --disjoint off 2>&1 | grep ms
$P --dtypes tf32,float16 --train --cudnn 2>&1 | grep ms
$P --dtypes tf32 --train --disjoint off 2>&1 | grep ms
