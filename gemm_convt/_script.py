"""The module's forward in the subset of Python that TorchScript compiles:
torch.jit.script of a converted model calls the registered operator directly
(the operator's C++ checks guard its arguments; the eager path keeps the
Python layer's more detailed errors)."""
from typing import List, Optional

import torch


def check_padding_mode(padding_mode: str):
    if padding_mode != "zeros":
        raise ValueError("gemm_convt.ConvTranspose2d: expected padding_mode 'zeros', but got {}".format(padding_mode))


def output_padding(input: torch.Tensor, output_size: Optional[List[int]], stride: List[int], padding: List[int],
                   kernel_size: List[int], dilation: List[int], default: List[int]) -> List[int]:
    """output_padding that yields output_size (its last two values are the
    spatial size, so unbatched input works), else `default`."""
    if output_size is None:
        return default
    if len(output_size) != 2 and len(output_size) != input.dim():
        raise ValueError("ConvTranspose2d: expected output_size of 2 values (or {}, the input's dims), but got {}"
                         .format(input.dim(), len(output_size)))
    result: List[int] = []
    for d in range(2):
        want = output_size[len(output_size) - 2 + d]
        smallest = ((input.size(input.dim() - 2 + d) - 1) * stride[d] - 2 * padding[d]
                    + dilation[d] * (kernel_size[d] - 1) + 1)
        if want < smallest or want > smallest + stride[d] - 1:
            raise ValueError("ConvTranspose2d: expected output_size[{}] between {} and {}, but got {}"
                             .format(d - 2, smallest, smallest + stride[d] - 1, want))
        result.append(want - smallest)
    return result


def forward(input: torch.Tensor, weight: torch.Tensor, bias: Optional[torch.Tensor], stride: List[int],
            padding: List[int], output_padding: List[int], dilation: List[int], groups: int) -> torch.Tensor:
    return torch.ops.gemm_convt.conv_transpose2d(input, weight, bias, stride, padding, output_padding, dilation,
                                                 groups)
