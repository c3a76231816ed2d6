"""Drop-in replacement for torch.nn.ConvTranspose2d."""
import torch

from . import _checks
from .errors import ArgumentValueError
from .functional import conv_transpose2d


class ConvTranspose2d(torch.nn.ConvTranspose2d):
    """nn.ConvTranspose2d computed by gemm_convt.

    Same constructor, parameters, initialisation and state_dict as torch's
    module, so checkpoints load either way. ``forward(input, output_size)``
    honours ``output_size`` for batched and unbatched input alike.
    """

    def forward(self, input, output_size=None):
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
