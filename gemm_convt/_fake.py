"""Fake (meta) kernels of the registered operators: the shapes, dtypes and
memory layouts the real kernels return, computed without data. torch.compile,
torch.export and FakeTensor propagation call them; sizes may be symbolic
(dynamic batch). Registered with torch.library.register_fake (torch >= 2.4)
or impl_abstract (2.1 - 2.3); torch 1.13 has neither API (nor torch.compile /
torch.export), and there the operators have no meta kernel.
"""
import torch

from . import _checks
from ._native import _C  # noqa: F401  (defines the operators first)


def _memory_format(t):
    """What the C++ kernels use: Tensor::suggest_memory_format of a 4-D tensor."""
    from torch._prims_common import suggest_memory_format
    return suggest_memory_format(t)


def conv_transpose2d(input, weight, bias, stride, padding, output_padding, dilation, groups):
    unbatched = input.dim() == 3
    x = input.unsqueeze(0) if unbatched else input
    torch._check(x.dim() == 4 and weight.dim() == 4, lambda: "gemm_convt: expected a 3-D/4-D input and 4-D weight")
    torch._check(x.shape[1] == weight.shape[0], lambda: "gemm_convt: expected input channels = weight.size(0)")
    size = [x.shape[0], weight.shape[1] * groups] + [
        _checks.output_extent(x.shape[2 + d], weight.shape[2 + d], stride[d], padding[d], output_padding[d],
                              dilation[d]) for d in range(2)]
    channels_last = torch.channels_last in (_memory_format(x), _memory_format(weight))
    out = torch.empty(size, dtype=x.dtype, device=x.device,
                      memory_format=torch.channels_last if channels_last else torch.contiguous_format)
    return out.squeeze(0) if unbatched else out


def conv_transpose2d_backward(grad_output, input, weight, stride, padding, output_padding, dilation, groups,
                              output_mask):
    grad_input = grad_weight = grad_bias = None
    if output_mask[0]:
        x = input.unsqueeze(0) if input.dim() == 3 else input
        grad_input = torch.empty(x.shape, dtype=x.dtype, device=x.device, memory_format=_memory_format(x))
        grad_input = grad_input.squeeze(0) if input.dim() == 3 else grad_input
    if output_mask[1]:
        grad_weight = torch.empty(weight.shape, dtype=weight.dtype, device=weight.device)
    if output_mask[2]:
        grad_bias = torch.empty((weight.shape[1] * groups,), dtype=input.dtype, device=input.device)
    return grad_input, grad_weight, grad_bias


def register():
    """Registers both fake kernels; False where torch has no API for it."""
    api = getattr(torch.library, "register_fake", None) or getattr(torch.library, "impl_abstract", None)
    if api is None:
        return False
    api("gemm_convt::conv_transpose2d")(conv_transpose2d)
    api("gemm_convt::conv_transpose2d_backward")(conv_transpose2d_backward)
    return True


REGISTERED = register()
