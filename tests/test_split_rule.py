"""CUDA's default for float32 without TF32 (csrc/problem.h `split_tf32_takes`), checked on
the CPU through its test hook: where the columns GEMM takes split TF32 products on folded
operands instead of cuBLAS's IEEE GEMM. The implicit GEMM's and the gather's cost models
may still take the call (kb71 runs the implicit GEMM); tests/test_cuda.py::test_fp32_split_rule
checks on the GPU that the split then runs and matches float64 (BENCHMARKS.md, session 26)."""
import pytest

import gemm_convt
from gemm_convt._native import _C
from gemm_convt._bench.problems import PROBLEMS, problem


def _code(mode):
    """A None/True/False setting as C++ holds it."""
    return -1 if mode is None else int(mode)


def takes(p, dtype="float32", allow_tf32=False, split=None, fold=None):
    return _C._split_tf32_takes(
        [p.batch, p.in_channels, *p.input_size],
        [p.in_channels, p.out_channels // p.groups, *p.kernel_size],
        list(p.stride), list(p.padding), list(p.output_padding), list(p.dilation), p.groups,
        dtype, allow_tf32, _code(split), _code(fold))


# (shape, splits by default, why)
CASES = [
    (PROBLEMS["dcgan"], True, "4x4 stride 2: 16 -> 8 column values per input column (0.91 -> 0.62 ms)"),
    (PROBLEMS["fcn_up"], True, "the same fold (2.83 ms implicit -> 2.29 split)"),
    (PROBLEMS["kb71"], True, "3x3 stride 1: 9 -> 3 (the implicit GEMM still takes it)"),
    (PROBLEMS["kb81"], False, "3 taps at stride 5: the folded columns grow"),
    (PROBLEMS["unet_up"], False, "2x2 stride 2: no column saved"),
    (PROBLEMS["kb75"], False, "5 wide at stride 3: 15 -> 9 column values per input column, less than half"),
    (problem("k3s2", 16, 128, 64, 3, (64, 64), 2, 1, output_padding=1), False, "9 -> 6: less than half"),
    (problem("k3x1", 4, 16, 16, (3, 1), (8, 8), 2), False, "no width to fold"),
    (problem("k4s2_512", 16, 512, 512, 4, (16, 16), 2, 1), False,
     "the folded split weight, 48 MiB, passes half the 64 MiB cap (split 1.5 ms, IEEE 0.9)"),
]


@pytest.mark.parametrize("shape, split, why", CASES, ids=[c[0].name for c in CASES])
def test_default_rule(shape, split, why):
    assert takes(shape) == split, why


DCGAN, KB81 = PROBLEMS["dcgan"], PROBLEMS["kb81"]


def test_only_float32_without_tf32_splits():
    assert takes(DCGAN)
    assert not takes(DCGAN, allow_tf32=True)
    for dtype in ("float64", "float16", "bfloat16"):
        assert not takes(DCGAN, dtype), dtype
        assert not takes(DCGAN, dtype, split=True), dtype


def test_the_settings_override_the_rule():
    assert takes(KB81, split=True)            # set_fp32_split(True): wherever the columns path runs
    assert not takes(DCGAN, split=False)      # set_fp32_split(False): the IEEE GEMM
    assert not takes(DCGAN, fold=False)       # set_width_folding(False): no folded split by default
    assert takes(DCGAN, split=True, fold=False)  # forced: plain split operands
    assert takes(DCGAN, fold=True)


@pytest.mark.parametrize("limit_mib, split", [(64, True), (48, True), (47, False), (32, False)])
def test_the_folded_split_weight_takes_at_most_half_the_cap(limit_mib, split):
    """dcgan's folded split weight is 24 MiB (2 width phases x 256 outputs x 4 kernel rows x
    3 parts x 512 inputs x 2 width taps, float32): split while it is at most half the cap."""
    gemm_convt.set_workspace_limit(limit_mib << 20)
    assert takes(DCGAN) == split


def test_bad_dtype_is_refused():
    with pytest.raises(RuntimeError, match="split_tf32_takes_for: expected dtype float32, float64, float16 or "
                                           "bfloat16, but got int8"):
        takes(DCGAN, "int8")
