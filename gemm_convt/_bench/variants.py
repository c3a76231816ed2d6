"""The paths timed side by side, and the torch / gemm_convt settings each needs."""
import collections
import contextlib

import torch

from .. import _settings as gemm_convt_settings

# ours: gemm_convt (True) or torch (False); precision: the GEMM precision its floor uses
Variant = collections.namedtuple("Variant", ["label", "ours", "precision", "settings"])

_NATIVE = {torch.float16: "fp16", torch.bfloat16: "bf16", torch.float64: "fp64", torch.float32: "ieee"}


def variants(device, dtype):
    """cuDNN at torch's default TF32 policy and strict, torch's own GEMM+col2im
    (cuDNN off; mkldnn off on the CPU), ours with TF32, float32 by split TF32
    and IEEE float32 (our default). Ours in float32 also makes cuDNN strict, so
    a whole model (its Conv2d layers too) runs in float32 beside "cuDNN fp32
    strict"."""
    native = _NATIVE[dtype]
    if device.type == "cpu":
        return [Variant("gemm_convt", True, native, {}),
                Variant("torch (mkldnn)", False, native, {}),
                Variant("torch own (no mkldnn)", False, native, dict(mkldnn=False))]
    if dtype == torch.float32:
        rows = [Variant("gemm_convt tf32", True, "tf32", dict(ours_tf32=True, cudnn_tf32=True)),
                Variant("cuDNN tf32 (default)", False, "tf32", dict(cudnn_tf32=True))]
        if hasattr(gemm_convt_settings, "set_fp32_split"):
            # float32 by split TF32 (three TF32 products, float32-class accuracy) everywhere,
            # and our default: split where the width fold halves the columns, else IEEE.
            rows.append(Variant("gemm_convt fp32 (split)", True, "tf32x3",
                                dict(ours_tf32=None, ours_split=True, cudnn_tf32=False)))
            rows.append(Variant("gemm_convt fp32 (default)", True, "ieee",
                                dict(ours_tf32=None, ours_split=None, cudnn_tf32=False)))
        rows += [Variant("gemm_convt fp32 IEEE", True, "ieee", dict(ours_tf32=False, ours_split=False,
                                                                      cudnn_tf32=False)),
                 Variant("cuDNN fp32 strict", False, "ieee", dict(cudnn_tf32=False)),
                 Variant("torch own (cudnn off)", False, "ieee", dict(cudnn_enabled=False))]
        return rows
    return [Variant("gemm_convt", True, native, {}),
            Variant("cuDNN", False, native, {}),
            Variant("torch own (cudnn off)", False, native, dict(cudnn_enabled=False))]


_LEAVE = object()


@contextlib.contextmanager
def applied(cudnn_enabled=True, cudnn_tf32=True, ours_tf32=None, ours_split=_LEAVE, mkldnn=True):
    """Sets cuDNN on/off and its conv TF32 switch, mkldnn on/off and gemm_convt's
    TF32 override and float32 split (None: its default rule; unset: leave it) for
    the duration; restores them after."""
    get_tf32, set_tf32 = gemm_convt_settings.cudnn_conv_tf32_flag()
    has_split = hasattr(gemm_convt_settings, "set_fp32_split")
    saved = (torch.backends.cudnn.enabled, get_tf32(), torch.backends.mkldnn.enabled,
             gemm_convt_settings._allow_tf32, gemm_convt_settings.get_fp32_split() if has_split else None)
    torch.backends.cudnn.enabled = cudnn_enabled
    set_tf32(cudnn_tf32)
    torch.backends.mkldnn.enabled = mkldnn
    gemm_convt_settings.set_allow_tf32(ours_tf32)
    if has_split and ours_split is not _LEAVE:
        gemm_convt_settings.set_fp32_split(ours_split)
    try:
        yield
    finally:
        torch.backends.cudnn.enabled = saved[0]
        set_tf32(saved[1])
        torch.backends.mkldnn.enabled = saved[2]
        gemm_convt_settings.set_allow_tf32(saved[3])
        if has_split:
            gemm_convt_settings.set_fp32_split(saved[4])
