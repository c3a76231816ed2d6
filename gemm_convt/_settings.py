"""Process-wide knobs: TF32 policy, the columns workspace cap and the columns dtype."""
import torch

_DEFAULT_WORKSPACE_BYTES = 64 * 1024 * 1024

_allow_tf32 = None  # None: float32-accurate (see set_allow_tf32)
_fp32_split = True
_workspace_bytes = _DEFAULT_WORKSPACE_BYTES
_float_columns = False
_width_folding = None


def set_allow_tf32(allow):
    """Whether float32 GEMMs on CUDA may round their operands to TF32.

    True: plain TF32 tensor cores (10-bit mantissas, relative error ~3e-4).
    False or None (the default): float32-accurate results (~1e-6), by three TF32
    products of split operands on the tensor cores (see set_fp32_split).

    None does not follow torch's cuDNN TF32 flag: cuDNN, although allowed TF32
    by default, returns float32-accurate results on many problems (KernelBench
    #75, the small problems of PyTorch's OpInfo tests), and a drop-in must be no
    less accurate there. Ask for TF32 explicitly to trade accuracy for speed.
    """
    global _allow_tf32
    if allow is not None and not isinstance(allow, bool):
        raise TypeError("set_allow_tf32: expected allow to be None or bool, but got %r" % (allow,))
    _allow_tf32 = allow


def get_allow_tf32():
    """The TF32 decision the next float32 CUDA call will use (True only when asked)."""
    return _allow_tf32 is True


def set_fp32_split(enabled):
    """How float32 is computed on CUDA when TF32 is not allowed: True (the
    default) splits each operand into a TF32 part and a remainder and runs one
    TF32 GEMM over the three cross products (float32-class accuracy at tensor-
    core speed); False runs cuBLAS's IEEE float32 (SIMT) GEMM."""
    global _fp32_split
    if not isinstance(enabled, bool):
        raise TypeError("set_fp32_split: expected enabled to be a bool, but got %r" % (enabled,))
    _fp32_split = enabled


def get_fp32_split():
    return _fp32_split


def _cudnn_conv_allows_tf32():
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
    """Caps the columns buffer (bytes); None restores the default (64 MiB).

    The columns are produced and consumed chunk by chunk within this cap (one
    output channel of one sample is the smallest chunk, even if larger).
    """
    global _workspace_bytes
    if num_bytes is None:
        _workspace_bytes = _DEFAULT_WORKSPACE_BYTES
        return
    if isinstance(num_bytes, bool) or not isinstance(num_bytes, int):
        raise TypeError("set_workspace_limit: expected num_bytes to be an int, but got %r" % (num_bytes,))
    if num_bytes <= 0:
        raise ValueError("set_workspace_limit: expected num_bytes > 0, but got %d" % num_bytes)
    _workspace_bytes = num_bytes


def get_workspace_limit():
    return _workspace_bytes


def set_float_columns(enabled):
    """Whether float16/bfloat16 inputs keep their columns in float32 on CUDA.

    False (the default) stores the columns in the input's dtype: half the
    columns traffic, one more rounding per column value (the GEMM still
    accumulates in float32, and so does col2im). True stores them in float32:
    the output is then rounded once, at twice the traffic.
    """
    global _float_columns
    if not isinstance(enabled, bool):
        raise TypeError("set_float_columns: expected enabled to be a bool, but got %r" % (enabled,))
    _float_columns = enabled


def get_float_columns():
    return _float_columns


def set_width_folding(mode):
    """Whether the kernel width is folded into the GEMM (the input unfolded along
    w per chunk, kw times fewer column values on stride-1 widths). None (the
    default) decides per problem from the bytes each way; True / False force it."""
    global _width_folding
    if mode is not None and not isinstance(mode, bool):
        raise TypeError("set_width_folding: expected mode to be None or bool, but got %r" % (mode,))
    _width_folding = mode


def get_width_folding():
    return _width_folding


def width_folding_code():
    return -1 if _width_folding is None else int(_width_folding)
