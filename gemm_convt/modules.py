"""Drop-in replacement for torch.nn.ConvTranspose2d."""
from typing import List, Optional

import torch

from . import _checks, _script
from .errors import ArgumentValueError
from .functional import conv_transpose2d


class ConvTranspose2d(torch.nn.ConvTranspose2d):
    """nn.ConvTranspose2d computed by gemm_convt.

    Same constructor, parameters, initialisation and state_dict as torch's
    module, so checkpoints load either way. ``forward(input, output_size)``
    honours ``output_size`` for batched and unbatched input alike. Works
    under torch.jit.script / trace (the scripted forward calls the registered
    operator directly), torch.compile and torch.export.
    """

    def forward(self, input: torch.Tensor, output_size: Optional[List[int]] = None) -> torch.Tensor:
        if torch.jit.is_scripting():
            _script.check_padding_mode(self.padding_mode)
            stride = [self.stride[0], self.stride[1]]
            padding = [self.padding[0], self.padding[1]]
            dilation = [self.dilation[0], self.dilation[1]]
            output_padding = _script.output_padding(
                input, output_size, stride, padding, [self.kernel_size[0], self.kernel_size[1]], dilation,
                [self.output_padding[0], self.output_padding[1]])
            return _script.forward(input, self.weight, self.bias, stride, padding, output_padding, dilation,
                                   self.groups)
        return self._eager_forward(input, output_size)

    @torch.jit.unused
    def _eager_forward(self, input: torch.Tensor, output_size: Optional[List[int]] = None) -> torch.Tensor:
        if self.padding_mode != "zeros":
            raise ArgumentValueError(
                "gemm_convt.ConvTranspose2d: expected padding_mode 'zeros', but got %r" % (self.padding_mode,)
            )
        output_padding = self.output_padding
        if output_size is not None:
            if not isinstance(input, torch.Tensor) or input.dim() not in (3, 4):
                _checks.check_tensors(input, self.weight, self.bias, self.groups)
            output_padding = _checks.output_padding_for_size(
                input, output_size, self.stride, self.padding, self.kernel_size, self.dilation
            )
        return conv_transpose2d(
            input, self.weight, self.bias, self.stride, self.padding, output_padding, self.groups, self.dilation
        )
