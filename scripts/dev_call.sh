set -u
R=$PWD
bash scripts/ab_probe.sh build/ab_base --problems kb69,kb65,kb57,kb78,kb71,fcn_up --dtypes ieee | grep "ours"
cd /tmp/ab
PYTHONPATH=/tmp/ab/new timeout 150 python3 -m pytest -p no:cacheprovider -c $R/pyproject.toml --rootdir $R $R/tests -q -m cuda -k "implicit or infinit or nan or largest or opinfo" 2>&1 | tail -2
