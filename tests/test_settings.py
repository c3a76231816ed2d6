"""The TF32 policy and workspace knobs (flags only: runs on any machine)."""
import pytest
import torch

import gemm_convt

conv_flags = getattr(torch.backends.cudnn, "conv", None)
HAS_PRECISION_API = getattr(conv_flags, "fp32_precision", None) is not None


def test_follows_legacy_cudnn_flag():
    gemm_convt.set_allow_tf32(None)
    torch.backends.cudnn.allow_tf32 = False
    assert gemm_convt.get_allow_tf32() is False
    torch.backends.cudnn.allow_tf32 = True
    assert gemm_convt.get_allow_tf32() is True


@pytest.mark.skipif(not HAS_PRECISION_API, reason="torch.backends.cudnn.conv.fp32_precision needs torch >= 2.9")
def test_follows_per_operator_precision_api():
    saved = conv_flags.fp32_precision
    try:
        gemm_convt.set_allow_tf32(None)
        conv_flags.fp32_precision = "ieee"  # reading cudnn.allow_tf32 now raises in torch
        assert gemm_convt.get_allow_tf32() is False
        conv_flags.fp32_precision = "tf32"
        assert gemm_convt.get_allow_tf32() is True
    finally:
        conv_flags.fp32_precision = saved


@pytest.mark.parametrize("override", [True, False])
def test_explicit_override_wins(override):
    torch.backends.cudnn.allow_tf32 = not override
    gemm_convt.set_allow_tf32(override)
    assert gemm_convt.get_allow_tf32() is override
    gemm_convt.set_allow_tf32(None)
    assert gemm_convt.get_allow_tf32() is (not override)


def test_workspace_limit_round_trip():
    gemm_convt.set_workspace_limit(12345)
    assert gemm_convt.get_workspace_limit() == 12345
    gemm_convt.set_workspace_limit(None)
    assert gemm_convt.get_workspace_limit() == 256 * 1024 * 1024


# --- the operator reads the settings in C++: both sides must agree -----------

from gemm_convt import _settings  # noqa: E402
from gemm_convt._native import _C  # noqa: E402


def _assert_cpp_agrees_with_python():
    assert _C.torch_conv_allows_tf32() is _settings._cudnn_conv_allows_tf32()
    override = _settings._allow_tf32
    expected = _settings._cudnn_conv_allows_tf32() if override is None else override
    assert _C.get_allow_tf32() is expected
    assert gemm_convt.get_allow_tf32() is expected


@pytest.mark.parametrize("override", [None, True, False], ids=["follow", "true", "false"])
@pytest.mark.parametrize("torch_flag", [True, False], ids=["torch-tf32", "torch-ieee"])
def test_cpp_and_python_agree_legacy_flag(override, torch_flag):
    torch.backends.cudnn.allow_tf32 = torch_flag
    gemm_convt.set_allow_tf32(override)
    _assert_cpp_agrees_with_python()
    assert gemm_convt.get_allow_tf32() is (torch_flag if override is None else override)


@pytest.mark.skipif(not HAS_PRECISION_API, reason="torch.backends.cudnn.conv.fp32_precision needs torch >= 2.9")
@pytest.mark.parametrize("override", [None, True, False], ids=["follow", "true", "false"])
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
    assert _C.get_workspace_limit() == 256 * 1024 * 1024


def test_operator_schema_has_no_settings():
    schema = str(torch.ops.gemm_convt.conv_transpose2d.default._schema)
    assert "workspace" not in schema and "tf32" not in schema
    assert schema.startswith("gemm_convt::conv_transpose2d(Tensor input, Tensor weight, Tensor? bias")
