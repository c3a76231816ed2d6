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
    assert gemm_convt.get_fp32_split() is True
    gemm_convt.set_fp32_split(False)
    assert gemm_convt.get_fp32_split() is False
    gemm_convt.set_fp32_split(True)
    with pytest.raises(TypeError, match="set_fp32_split: expected enabled to be a bool"):
        gemm_convt.set_fp32_split(1)


def test_workspace_limit_round_trip():
    gemm_convt.set_workspace_limit(12345)
    assert gemm_convt.get_workspace_limit() == 12345
    gemm_convt.set_workspace_limit(None)
    assert gemm_convt.get_workspace_limit() == 64 * 1024 * 1024
