set -u
R=$PWD
bash scripts/ab_probe.sh build/ab_base --problems kb69,kb65,kb71,fcn_up,dcgan --dtypes tf32,ieee --implicit on | grep "ours"
cd /tmp/ab
PYTHONPATH=/tmp/ab/new timeout 200 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda -k "implicit or direct_paths or infinit or nan or largest" 2>&1 | tail -3
