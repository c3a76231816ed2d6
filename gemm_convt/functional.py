"""conv_transpose2d with the signature and results of torch.nn.functional's."""
import torch

from . import _checks
from ._native import _C

# The registered operator (importing _C registered it); a module attribute so
# tests can check that invalid arguments never reach it.
_ops = torch.ops.gemm_convt


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution computed as a GEMM plus col2im (bias fused).

    Same arguments and result as ``torch.nn.functional.conv_transpose2d``:
    input (N, C_in, H, W) or unbatched (C_in, H, W); weight
    (C_in, C_out / groups, kH, kW); int or pair stride, padding,
    output_padding and dilation. Differentiable (input, weight and bias; every
    order, forward mode too) through the operator's own backward.
    """
    stride = _checks.pair(stride, "stride")
    padding = _checks.pair(padding, "padding")
    output_padding = _checks.pair(output_padding, "output_padding")
    dilation = _checks.pair(dilation, "dilation")
    _checks.check_geometry(stride, padding, output_padding, dilation, groups)
    if not torch.jit.is_tracing():
        # Under torch.jit.trace, checks on sizes would bake this input's shape into the
        # trace (with TracerWarnings); the operator's own C++ checks apply there.
        _checks.check_tensors(input, weight, bias, groups)
        _checks.check_output_size(input, weight, stride, padding, output_padding, dilation)
    return _ops.conv_transpose2d(
        input, weight, bias, list(stride), list(padding), list(output_padding), list(dilation), int(groups)
    )


def build_info():
    """Version, the torch built against, and whether/how CUDA kernels were built."""
    return dict(_C.build_info())
