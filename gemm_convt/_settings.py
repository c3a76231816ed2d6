"""Process-wide knobs: float32 policy (TF32, split), the columns workspace cap,
the columns dtype of half inputs and width folding.

The operator reads them in C++ (csrc/settings.cpp) at every call, so its
schema stays free of them; the setters here validate and forward them.
"""
import torch

from ._native import _C
from .errors import ArgumentTypeError, ArgumentValueError

_DEFAULT_WORKSPACE_BYTES = 64 * 1024 * 1024

_allow_tf32 = None  # the value last set (None: the default policy); C++ holds the live value


def _checked_bool(setter, enabled):
    if not isinstance(enabled, bool):
        raise ArgumentTypeError("%s: expected enabled to be a bool, but got %r" % (setter, enabled))
    return enabled


def _mode_code(setter, mode):
    """A None/True/False knob as C++ holds it: -1 (None: the default rule), 0 or 1."""
    if mode is not None and not isinstance(mode, bool):
        raise ArgumentTypeError("%s: expected mode to be None or bool, but got %r" % (setter, mode))
    return -1 if mode is None else int(mode)


def _mode_of(code):
    return None if code < 0 else bool(code)


def set_allow_tf32(allow):
    """Whether float32 GEMMs on CUDA may round their operands to TF32.

    True: plain TF32 tensor cores (10-bit mantissas, relative error ~3e-4).
    False or None (the default): float32-accurate results: ~1e-7 against
    float64 by cuBLAS's IEEE float32 GEMM and the kernels' in-register three
    TF32 products, ~1e-6 where the columns GEMM takes split TF32 products
    (stride-2 upsampling layers by default: see set_fp32_split).

    None does not follow torch's cuDNN TF32 flag: cuDNN, although allowed TF32
    by default, returns float32-accurate results on many problems (KernelBench
    #75, the small problems of PyTorch's OpInfo tests), and a drop-in must be no
    less accurate there. Ask for TF32 explicitly to trade accuracy for speed.
    """
    global _allow_tf32
    if allow is not None and not isinstance(allow, bool):
        raise ArgumentTypeError("set_allow_tf32: expected allow to be None or bool, but got %r" % (allow,))
    _C.set_allow_tf32(allow)
    _allow_tf32 = allow


def get_allow_tf32():
    """The TF32 decision the next float32 CUDA call will use (True only when
    set so; resolved in C++, where the operator reads it)."""
    return bool(_C.get_allow_tf32())


def set_fp32_split(mode):
    """How the float32 columns GEMM runs on CUDA when TF32 is not allowed.

    True: each operand split into its TF32 rounding and the float32 remainder,
    one TF32 GEMM over three products (lo·hi + hi·lo + hi·hi) on the tensor
    cores: float32-class accuracy, a relative error of ~1e-6 against float64
    (the tensor cores' accumulation loses more than IEEE float32's ~2e-7), well
    inside the float32 tests' 1e-5. The operands are width-folded wherever the
    fold applies (unless set_width_folding(False)): K-major, the layout cuBLAS
    runs at the sm90 TF32 rate.
    False: cuBLAS's IEEE float32 (SIMT) GEMM.
    None (the default): split where the width fold applies and at least halves
    the columns (stride-2 upsampling layers such as dcgan's and fcn_up's 4x4:
    1.2-1.5x faster than the IEEE or the implicit GEMM on the H100,
    BENCHMARKS.md), IEEE elsewhere, where plain split operands ran no faster.
    Only the columns path reads this: the implicit GEMM, the gather and the
    disjoint-taps kernel keep their own float32-accurate products, and the
    backward pass uses the IEEE GEMM either way."""
    _C.set_fp32_split(_mode_code("set_fp32_split", mode))


def get_fp32_split():
    return _mode_of(_C.get_fp32_split())


def set_float_columns(enabled):
    """Whether float16/bfloat16 inputs keep their columns in float32 on CUDA.

    False (the default) stores the columns in the input's dtype: half the
    columns traffic, one more rounding per column value (the GEMM still
    accumulates in float32, and so does col2im). True stores them in float32:
    the output is then rounded once, at twice the traffic.
    """
    _C.set_float_columns(_checked_bool("set_float_columns", enabled))


def get_float_columns():
    return bool(_C.get_float_columns())


def set_width_folding(mode):
    """Whether the kernel width is folded into the GEMM's contraction, one stride
    phase of the output width at a time: each phase contracts only the width taps
    that land on it (the input unfolded along w per chunk), leaving
    out_channels * kh column values per input row and output column (kw / stride_w
    times fewer than plain columns where the taps overlap). None (the default): on
    CUDA where the column bytes it saves cover the unfolded input's and the plain GEMM
    is the slow part (float32 under set_allow_tf32(True) with >= 256 input channels
    per group or columns shrunk >= 3x; float16/bfloat16 with <= 128 input channels
    per group and an NCHW input): on the H100 its picks ran 1.23x (TF32, 0.82-1.8x) and
    1.29x (half types, 0.96-2.0x) faster in geometric mean (README, BENCHMARKS.md).
    Where col2im takes blocks over the folded columns (width stride <= 2, phase planes
    of whole 16-byte runs) it also folds TF32 from 128 input channels per group and the
    half types at any channel count (1.13-1.41x there, session 21). Strict float32
    folds where it takes split TF32 products (set_fp32_split), which fold wherever
    the fold applies; the IEEE GEMM, float64 and the CPU keep plain columns. True
    forces it where kw > 1, the width stride is at most 32 and the width taps' input
    columns span at most 64 more than their positions ((kw - 1) * dilation <= 64 at
    stride 1); False: plain columns (split TF32 then runs on plain operands)."""
    _C.set_width_folding(_mode_code("set_width_folding", mode))


def get_width_folding():
    return _mode_of(_C.get_width_folding())


def set_disjoint_taps(mode):
    """Whether CUDA problems whose taps never overlap (the dilated kernel fits in one
    stride: U-Net's 2x2 stride 2, KernelBench #81) run one fused tensor-core kernel that
    writes the output directly, with no columns and no workspace (float16, bfloat16,
    float32: TF32 under set_allow_tf32(True), else three TF32 products, float32-accurate,
    for up to 512 input channels per group). None (the default): where the taps tile
    each stride cell with no gap (kernel == stride, no dilation) and the input is copied
    in 16-byte vectors (contiguous NCHW, aligned), where it measured 1.2-1.5x faster than
    GEMM + col2im on the H100 and needs no workspace, and for channels_last inputs with at
    least 16 input channels per group (2.5-5x faster on U-Net's layer and #81); NCHW
    cells with gaps (#81) keep GEMM + col2im, as fast in TF32 and faster in float32 and
    float16 (BENCHMARKS.md). On compute capability 9.0, float32 without TF32 on contiguous
    NCHW inputs with kernel == stride runs the kernel's wgmma form (U-Net's layer 1.09-1.11
    -> 0.62 ms for the kernel on the H100; GEMM_CONVT_WGMMA=0 in the environment keeps the
    mma.sync one).
    True: wherever it applies; False: never."""
    _C.set_disjoint_taps(_mode_code("set_disjoint_taps", mode))


def get_disjoint_taps():
    return _mode_of(_C.get_disjoint_taps())


def set_direct_gather(mode):
    """Whether CUDA outputs are gathered directly: each output value finds the taps that
    land on it and contracts them with the weight on the fly (float32 FMAs, float64 for
    float64, so float32-accurate whatever the TF32 policy), with no columns buffer and no
    workspace. None (the default): where a cost model with rates measured on the H100
    predicts it at least 20% faster than GEMM + col2im (in the suite: KernelBench #75,
    and #71 and #78 in float32). True: wherever it applies (a plane's weights within 46 KiB
    of shared memory); False: never."""
    _C.set_direct_gather(_mode_code("set_direct_gather", mode))


def get_direct_gather():
    return _mode_of(_C.get_direct_gather())


def set_implicit_gemm(mode):
    """Whether CUDA calls run the tensor-core implicit GEMM: the products of each output
    row's positions with the weight, contracted over the taps that land on them straight
    from the input (mma.sync TF32; float32 as three TF32 products, float32-accurate, unless
    set_allow_tf32(True); float16/bfloat16 exact in TF32), with no columns and no workspace.
    None (the default): where the cost model predicts it fastest; True: wherever it applies
    (float32/float16/bfloat16, an sm80+ GPU); False: never. The same switch governs the
    backward's implicit paths: stride-1 grad_input as a forward on this GEMM, and float32
    grad_weight contracted in place (None: by their rules; True: wherever supported, and on
    the CPU by walks of the same geometry)."""
    _C.set_implicit_gemm(_mode_code("set_implicit_gemm", mode))


def get_implicit_gemm():
    return _mode_of(_C.get_implicit_gemm())


def set_gemm_graphs(enabled):
    """Whether CUDA calls replay their cuBLAS GEMMs from CUDA graphs. True (the
    default): a GEMM call seen before with the same pointers, sizes and stream is
    captured once and replayed after that: the same kernel on the same data, so the
    same bits, at ~5-10 us of host time instead of cuBLAS's 24-90 (its heuristic,
    attribute queries, memset and launch) on the H100 hosts measured; calls made of
    many chunks, and small problems, were paced by that host time. Each stream that
    replays holds a cuBLAS workspace of torch's chosen size (32 MiB on Hopper) for
    its graphs. False: every GEMM enqueued eagerly (release_gemm_graphs frees the
    graphs and workspaces)."""
    _C.set_gemm_graphs(_checked_bool("set_gemm_graphs", enabled))


def get_gemm_graphs():
    return bool(_C.get_gemm_graphs())


def release_gemm_graphs():
    """Frees the cached GEMM graphs and their cuBLAS workspaces (replays already
    enqueued complete first); later calls capture again."""
    _C.release_gemm_graphs()


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
    """Caps the columns buffer (bytes); None restores the default (64 MiB).

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
