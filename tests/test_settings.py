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
    assert gemm_convt.get_workspace_limit() == 64 * 1024 * 1024
