"""conv_transpose2d with the signature and results of torch.nn.functional's."""
from . import _checks, _settings
from ._native import _C


def conv_transpose2d(input, weight, bias=None, stride=1, padding=0, output_padding=0, groups=1, dilation=1):
    """Transposed 2-D convolution computed as a GEMM plus col2im (bias fused).

    Same arguments and result as ``torch.nn.functional.conv_transpose2d``:
    input (N, C_in, H, W) or unbatched (C_in, H, W); weight
    (C_in, C_out / groups, kH, kW); int or pair stride, padding,
    output_padding and dilation. Autograd is not supported yet: calling this on
    tensors that require grad while grad mode is on raises RuntimeError.
    """
    stride = _checks.pair(stride, "stride")
    padding = _checks.pair(padding, "padding")
    output_padding = _checks.pair(output_padding, "output_padding")
    dilation = _checks.pair(dilation, "dilation")
    _checks.check_geometry(stride, padding, output_padding, dilation, groups)
    _checks.check_tensors(input, weight, bias, groups)
    _checks.check_output_size(input, weight, stride, padding, output_padding, dilation)
    _checks.check_autograd(input, weight, bias)

    unbatched = input.dim() == 3
    batched = input.unsqueeze(0) if unbatched else input
    out = _C.forward(
        batched, weight, bias, list(stride), list(padding), list(output_padding), list(dilation),
        int(groups), _settings.get_workspace_limit(), _settings.get_float_columns(), _settings.get_allow_tf32(),
        _settings.get_fp32_split(), _settings.width_folding_code(),
    )
    return out.squeeze(0) if unbatched else out


def build_info():
    """Version, the torch built against, and whether/how CUDA kernels were built."""
    return dict(_C.build_info())
