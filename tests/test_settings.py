"""The TF32 policy and workspace knobs (flags only: runs on any machine)."""
import pytest
import torch

import gemm_convt

conv_flags = getattr(torch.backends.cudnn, "conv", None)
HAS_PRECISION_API = getattr(conv_flags, "fp32_precision", None) is not None


@pytest.mark.parametrize("cudnn_tf32", [True, False])
def test_default_is_fp32_accurate_whatever_cudnn_allows(cudnn_tf32):
    """None: float32-accurate results; plain TF32 only when asked for."""
    gemm_convt.set_allow_tf32(None)
    torch.backends.cudnn.allow_tf32 = cudnn_tf32
    assert gemm_convt.get_allow_tf32() is False


@pytest.mark.skipif(not HAS_PRECISION_API, reason="torch.backends.cudnn.conv.fp32_precision needs torch >= 2.9")
def test_default_ignores_per_operator_precision_api():
    saved = conv_flags.fp32_precision
    try:
        gemm_convt.set_allow_tf32(None)
        for value in ("ieee", "tf32"):
            conv_flags.fp32_precision = value
            assert gemm_convt.get_allow_tf32() is False
    finally:
        conv_flags.fp32_precision = saved


@pytest.mark.parametrize("override", [True, False])
def test_explicit_override_wins(override):
    torch.backends.cudnn.allow_tf32 = not override
    gemm_convt.set_allow_tf32(override)
    assert gemm_convt.get_allow_tf32() is override
    gemm_convt.set_allow_tf32(None)
    assert gemm_convt.get_allow_tf32() is False


def test_fp32_split_round_trip():
    assert gemm_convt.get_fp32_split() is None  # the default: by problem.h's split_tf32_takes
    gemm_convt.set_fp32_split(True)
    assert gemm_convt.get_fp32_split() is True and _C.get_fp32_split() == 1
    gemm_convt.set_fp32_split(False)
    assert gemm_convt.get_fp32_split() is False and _C.get_fp32_split() == 0
    gemm_convt.set_fp32_split(None)
    assert _C.get_fp32_split() == -1
    with pytest.raises(TypeError, match="set_fp32_split: expected mode to be None or bool"):
        gemm_convt.set_fp32_split(1)


def test_workspace_limit_round_trip():
    gemm_convt.set_workspace_limit(12345)
    assert gemm_convt.get_workspace_limit() == 12345
    gemm_convt.set_workspace_limit(None)
    assert gemm_convt.get_workspace_limit() == 64 * 1024 * 1024


# --- the operator reads the settings in C++: both sides must agree -----------

from gemm_convt import _settings  # noqa: E402
from gemm_convt._native import _C  # noqa: E402


def _assert_cpp_agrees_with_python():
    assert _C.torch_conv_allows_tf32() is _settings._cudnn_conv_allows_tf32()
    expected = _settings._allow_tf32 is True  # plain TF32 only when set so
    assert _C.get_allow_tf32() is expected
    assert gemm_convt.get_allow_tf32() is expected


@pytest.mark.parametrize("override", [None, True, False], ids=["default", "true", "false"])
@pytest.mark.parametrize("torch_flag", [True, False], ids=["torch-tf32", "torch-ieee"])
def test_cpp_and_python_agree_legacy_flag(override, torch_flag):
    torch.backends.cudnn.allow_tf32 = torch_flag
    gemm_convt.set_allow_tf32(override)
    _assert_cpp_agrees_with_python()
    assert gemm_convt.get_allow_tf32() is (override is True)


@pytest.mark.skipif(not HAS_PRECISION_API, reason="torch.backends.cudnn.conv.fp32_precision needs torch >= 2.9")
@pytest.mark.parametrize("override", [None, True, False], ids=["default", "true", "false"])
def test_cpp_and_python_agree_per_operator_api(override):
    saved_conv, saved_cudnn = conv_flags.fp32_precision, torch.backends.cudnn.fp32_precision
    try:
        gemm_convt.set_allow_tf32(override)
        # The conv flag set directly, and inherited from the cuDNN-wide one ("none").
        for cudnn_value, conv_value, expected in [("ieee", "tf32", True), ("tf32", "ieee", False),
                                                  ("tf32", "none", True), ("ieee", "none", False)]:
            torch.backends.cudnn.fp32_precision = cudnn_value
            conv_flags.fp32_precision = conv_value
            assert _C.torch_conv_allows_tf32() is expected, (cudnn_value, conv_value)
            _assert_cpp_agrees_with_python()
    finally:
        conv_flags.fp32_precision = saved_conv
        torch.backends.cudnn.fp32_precision = saved_cudnn


def test_cpp_workspace_limit_is_the_python_one():
    gemm_convt.set_workspace_limit(4321)
    assert _C.get_workspace_limit() == 4321 == gemm_convt.get_workspace_limit()
    gemm_convt.set_workspace_limit(None)
    assert _C.get_workspace_limit() == 64 * 1024 * 1024


def test_operator_schema_has_no_settings():
    schema = str(torch.ops.gemm_convt.conv_transpose2d.default._schema)
    assert "workspace" not in schema and "tf32" not in schema
    assert schema.startswith("gemm_convt::conv_transpose2d(Tensor input, Tensor weight, Tensor? bias")


def test_cpp_holds_the_other_knobs():
    gemm_convt.set_fp32_split(False)
    gemm_convt.set_float_columns(True)
    gemm_convt.set_width_folding(True)
    assert (_C.get_fp32_split(), _C.get_float_columns(), _C.get_width_folding()) == (False, True, 1)
    gemm_convt.set_width_folding(None)
    assert _C.get_width_folding() == -1 and gemm_convt.get_width_folding() is None


@pytest.mark.parametrize("knob", ["width_folding", "disjoint_taps", "direct_gather", "implicit_gemm"])
def test_mode_knobs_take_none_true_false(knob):
    setter, getter = getattr(gemm_convt, "set_" + knob), getattr(gemm_convt, "get_" + knob)
    cpp_getter = getattr(_C, "get_" + knob)
    saved = getter()
    try:
        for mode, code in [(True, 1), (False, 0), (None, -1)]:
            setter(mode)
            assert getter() is mode and cpp_getter() == code
        with pytest.raises(TypeError, match=r"set_%s: expected mode to be None or bool, but got 1" % knob):
            setter(1)
        assert getter() is None  # a rejected value changes nothing
    finally:
        setter(saved)


def test_disjoint_taps_default_is_its_rule():
    assert gemm_convt.get_disjoint_taps() is None  # the conftest restores every knob after a test


def test_gemm_graphs_round_trip():
    assert gemm_convt.get_gemm_graphs() is True  # the default (the conftest restores it)
    gemm_convt.set_gemm_graphs(False)
    assert gemm_convt.get_gemm_graphs() is False and _C.get_gemm_graphs() is False
    with pytest.raises(TypeError, match=r"set_gemm_graphs: expected enabled to be a bool, but got 0"):
        gemm_convt.set_gemm_graphs(0)
    assert gemm_convt.get_gemm_graphs() is False  # a rejected value changes nothing
    gemm_convt.release_gemm_graphs()  # a no-op without graphs (and on CPU builds)
    gemm_convt.set_gemm_graphs(True)
    assert _C.get_gemm_graphs() is True
