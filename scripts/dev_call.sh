set -u
source scripts/device_build.sh implicit_gemm_kernel $OUT/build.log | tail -12
cp scripts/probe_speed.py scripts/cuda_timing.py /tmp/
cd /tmp
timeout 200 python3 -m pytest -p no:cacheprovider -c $OLDPWD/pyproject.toml --rootdir $OLDPWD $OLDPWD/tests -q -m cuda -x -k "implicit or direct_paths or infinit or nan or largest" 2>&1 | tail -4
for mode in on auto; do
  python3 probe_speed.py --problems fcn_up,dcgan,unet_up,kb81 --dtypes tf32,ieee,float16 --implicit $mode --profile 2>&1 | grep -v "^ *$\|Warn\|warn" | head -70
done
