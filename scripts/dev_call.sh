set -u
R=$PWD
bash scripts/ab_probe.sh build/ab_base --problems kb71,kb78 --dtypes ieee,tf32 | grep "ours"
cd /tmp/ab
PYTHONPATH=/tmp/ab/new timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda -k "implicit or infinit or nan or largest" 2>&1 | tail -2
