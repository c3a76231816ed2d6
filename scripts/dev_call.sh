set -u
R=$PWD
source scripts/device_build.sh implicit_gemm_kernel $OUT/build.log > /dev/null
cp scripts/probe_speed.py scripts/cuda_timing.py /tmp/
cd /tmp
for round in 1 2; do
  for v in 0 1; do
    GEMM_CONVT_PRE_SPLIT=$v python3 probe_speed.py --problems kb69,kb65,kb71,kb78,kb57,fcn_up,dcgan --dtypes ieee --implicit on 2>&1 | grep ours | sed "s/^/presplit$v.$round /"
  done
done
timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda -k "implicit or direct_paths or infinit or nan or largest or opinfo" 2>&1 | tail -3
