"""CUDA's width-folding rule (csrc/problem.h `width_fold_pays`), checked on the CPU
through its test hook: which calls set_width_folding(None) folds. The GPU side
(tests/test_cuda.py::test_width_folding_rule) checks that the fold then runs and
matches float64; the rule's data is in BENCHMARKS.md, sessions 20 and 21."""
import pytest

from gemm_convt._native import _C
from gemm_convt._bench.problems import PROBLEMS, problem


def pays(p, dtype, allow_tf32=False, float_columns=False, channels_last=False):
    return _C._width_fold_pays(
        [p.batch, p.in_channels, *p.input_size],
        [p.in_channels, p.out_channels // p.groups, *p.kernel_size],
        list(p.stride), list(p.padding), list(p.output_padding), list(p.dilation), p.groups,
        dtype, allow_tf32, float_columns, channels_last)


# (shape, dtype, TF32, channels_last, folds, why): the suite's layers and the
# session-20 probe's shapes, each with the rule's pick where the A/Bs measured it.
CASES = [
    (PROBLEMS["fcn_up"], "float32", True, False, True, "256 channels: folded 1.16-1.21x"),
    (PROBLEMS["fcn_up"], "float16", False, False, True, "256 channels, col2im blocks: 1.41x (session 21)"),
    (PROBLEMS["fcn_up"], "bfloat16", False, False, True, "256 channels, col2im blocks: 1.37x"),
    (problem("fcn_w63", 16, 256, 256, 4, (64, 63), 2, 1), "float16", False, False, False,
     "planes of 63: no col2im blocks, > 128 channels: level in session 20"),
    (PROBLEMS["dcgan"], "float32", True, False, True, "512 channels: folded 1.25-1.31x"),
    (PROBLEMS["dcgan"], "bfloat16", False, False, True, "512 channels, col2im blocks: 1.01"),
    (PROBLEMS["kb81"], "float32", True, False, False, "folded columns grow: 0.56-0.63x"),
    (PROBLEMS["unet_up"], "float32", True, False, False, "2x2 stride 2: no column saved"),
    (PROBLEMS["kb71"], "float32", True, False, False, "32 channels, columns shrunk 2.99x (out_w 1026)"),
    (problem("fcn_c64", 16, 64, 64, 4, (64, 64), 2, 1), "float16", False, False, True, "1.18-1.28x"),
    (problem("fcn_c64", 16, 64, 64, 4, (64, 64), 2, 1), "float16", False, True, False, "channels_last: 1.00"),
    (problem("fcn_c64", 16, 64, 64, 4, (64, 64), 2, 1), "float32", True, False, False, "TF32, 64 ch: 0.99-1.01"),
    (problem("k3s2", 16, 128, 64, 3, (64, 64), 2, 1, output_padding=1), "float32", True, False, False,
     "saves too little: 0.82x"),
    (problem("k3s1", 8, 64, 64, 3, (128, 128), 1, 1), "float32", True, False, True, "3x shrink: 1.22-1.58x"),
    (problem("k3x7s1", 4, 32, 32, (3, 7), (128, 128), 1, (1, 3)), "float16", False, False, True, "1.71-1.91x"),
    (problem("k4s2_192", 8, 192, 192, 4, (64, 64), 2, 1), "float32", True, False, True,
     "col2im blocks: 1.13x (session 20, without them: 0.76-1.00x)"),
    (problem("k4s2_128_32", 16, 128, 128, 4, (32, 32), 2, 1), "float32", True, False, True, "col2im blocks: 1.16x"),
    (problem("k4s2_192_w63", 8, 192, 192, 4, (64, 63), 2, 1), "float32", True, False, False,
     "planes of 63: no col2im blocks, < 256 channels"),
    (problem("k6s2_c96", 8, 96, 96, 6, (48, 48), 2, 2), "float32", True, False, True, "3x shrink"),
]


@pytest.mark.parametrize("shape, dtype, tf32, channels_last, folds, why", CASES,
                         ids=["%s-%s%s%s" % (c[0].name, c[1], "-tf32" if c[2] else "", "-cl" if c[3] else "")
                              for c in CASES])
def test_rule_picks(shape, dtype, tf32, channels_last, folds, why):
    assert pays(shape, dtype, allow_tf32=tf32, channels_last=channels_last) == folds, why


FCN = PROBLEMS["fcn_up"]


def test_strict_float32_and_float64_keep_plain_columns():
    assert pays(FCN, "float32", allow_tf32=True)
    assert not pays(FCN, "float32", allow_tf32=False)
    assert not pays(FCN, "float64", allow_tf32=True)


def test_float_columns_count_their_bytes():
    # float16, 32 -> 8 channels, 4x4 stride 2: the unfolded input's bytes match the
    # saved column bytes only when the columns are float32.
    shape = problem("narrow", 2, 32, 8, 4, (9, 10), 2, 1)
    assert not pays(shape, "float16")
    assert pays(shape, "float16", float_columns=True)


def test_width_one_and_wide_strides_never_fold():
    assert not pays(problem("w1", 2, 8, 8, (3, 1), (9, 10), 1, (1, 0)), "float16")
    # Four taps per phase, four times the output channels: the bytes pass at stride
    # 32; stride 33 is past the unfold's limit (geometry.h kMaxFoldPhases).
    assert pays(problem("s32", 2, 2, 8, (1, 128), (4, 4), (1, 32)), "float16")
    assert not pays(problem("s33", 2, 2, 8, (1, 132), (4, 4), (1, 33)), "float16")


def test_shift_spreads_past_the_unfold_tile_never_fold():
    # The unfold holds each tile's input columns widened by the spread of its
    # (phase, slot) shifts, (kw - 1) * dilation at stride 1: at most 64
    # (problem.h kMaxFoldShiftSpread).
    for kw, dilation in ((65, 1), (33, 2), (9, 8)):
        assert pays(problem("spread64", 2, 2, 8, (1, kw), (4, 80), dilation=(1, dilation)), "float16")
        assert not pays(problem("spread>64", 2, 2, 8, (1, kw + 1), (4, 80), dilation=(1, dilation)), "float16")
    # Stride 2, dilation 9: nine slots a phase, 9 input columns apart.
    assert not pays(problem("s2d9", 2, 2, 8, (1, 17), (4, 80), (1, 2), dilation=(1, 9)), "float16")


def test_bad_dtype_is_refused():
    with pytest.raises(RuntimeError, match="expected dtype"):
        pays(FCN, "int8")
