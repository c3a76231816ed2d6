# This session's iteration call: the base (build/base_src: `git archive REV | tar x -C
# build/base_src`, carried) and this tree built side by side (scripts/ab_probe.sh), the
# disjoint-taps tests on this tree, then U-Net's layer timed on both, alternating.
R=$(pwd)
bash scripts/ab_probe.sh build/base_src --problems unet_up --dtypes tf32,ieee,float16 --cudnn > $OUT/ab.log 2>&1
grep -E "ms|rror" $OUT/ab.log | head -40
cd /tmp
PYTHONPATH=/tmp/ab/new timeout 200 python3 -m pytest -p no:cacheprovider -c "$R/pyproject.toml" --rootdir "$R" \
  "$R/tests/test_cuda.py" -q -m cuda -k "disjoint or infinities or largest" 2>&1 | tail -15 | tee "$OUT/tests.log"
