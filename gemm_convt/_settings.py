"""Process-wide knobs: TF32 policy and the columns workspace cap.

The operator reads them in C++ (csrc/settings.cpp) at every call, so its
schema stays free of them; the setters here validate and forward them.
"""
import torch

from ._native import _C
from .errors import ArgumentTypeError, ArgumentValueError

_DEFAULT_WORKSPACE_BYTES = 256 * 1024 * 1024

_allow_tf32 = None  # the override last set (None: follow torch); C++ holds the live value


def set_allow_tf32(allow):
    """Whether float32 GEMMs on CUDA may use TF32 tensor cores.

    None (the default) follows torch's TF32 policy for the cuDNN convolution this
    op replaces: ``torch.backends.cudnn.conv.fp32_precision`` where it exists
    (torch >= 2.9), else ``torch.backends.cudnn.allow_tf32``. True allows TF32; False
    forces IEEE float32.
    """
    global _allow_tf32
    if allow is not None and not isinstance(allow, bool):
        raise ArgumentTypeError("set_allow_tf32: expected allow to be None or bool, but got %r" % (allow,))
    _C.set_allow_tf32(allow)
    _allow_tf32 = allow


def get_allow_tf32():
    """The TF32 decision the next float32 CUDA call will use (resolved in C++,
    where the operator reads it)."""
    return bool(_C.get_allow_tf32())


def _cudnn_conv_allows_tf32():
    """torch's cuDNN-convolution TF32 policy as Python reads it (the C++ side's
    reading, _C.torch_conv_allows_tf32, must agree; tests check it)."""
    value = cudnn_conv_tf32_flag()[0]()
    return value == "tf32" if isinstance(value, str) else bool(value)


def cudnn_conv_tf32_flag():
    """(getter, setter) of torch's TF32 switch for cuDNN convolutions. torch >= 2.9
    has a per-operator flag (cudnn.conv.fp32_precision, inheritance resolved by its
    getter) and raises on reading the legacy cudnn.allow_tf32 once the two APIs are
    mixed; older torch has only the legacy flag. The setter takes a bool or a value
    the getter returned."""
    conv = getattr(torch.backends.cudnn, "conv", None)
    if getattr(conv, "fp32_precision", None) is not None:
        def set_precision(value):
            conv.fp32_precision = value if isinstance(value, str) else ("tf32" if value else "ieee")
        return (lambda: conv.fp32_precision), set_precision

    def set_legacy(value):
        torch.backends.cudnn.allow_tf32 = value
    return (lambda: torch.backends.cudnn.allow_tf32), set_legacy


def set_workspace_limit(num_bytes=None):
    """Caps the columns buffer (bytes); None restores the default (256 MiB).

    The columns are produced and consumed chunk by chunk within this cap (one
    output channel of one sample is the smallest chunk, even if larger). The
    backward pass caps its columns at min(this, 64 MiB).
    """
    if num_bytes is None:
        num_bytes = _DEFAULT_WORKSPACE_BYTES
    if isinstance(num_bytes, bool) or not isinstance(num_bytes, int):
        raise ArgumentTypeError("set_workspace_limit: expected num_bytes to be an int, but got %r" % (num_bytes,))
    if num_bytes <= 0:
        raise ArgumentValueError("set_workspace_limit: expected num_bytes > 0, but got %d" % num_bytes)
    if num_bytes >= 2 ** 63:
        raise ArgumentValueError("set_workspace_limit: expected num_bytes < 2**63, but got %d" % num_bytes)
    _C.set_workspace_limit(num_bytes)


def get_workspace_limit():
    return int(_C.get_workspace_limit())
