"""Argument normalisation and validation, done before any native code runs.

Messages follow ATen's "expected ..., but got ..." style and name the argument.
"""
import numbers

import torch

from .errors import ArgumentTypeError, ArgumentValueError

SUPPORTED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def pair(value, name):
    """An int or a sequence of 1 or 2 ints, as torch's _pair accepts, to a tuple."""
    if isinstance(value, bool):
        raise ArgumentTypeError(
            "conv_transpose2d: expected %s to be an int or a pair of ints, but got %r" % (name, value)
        )
    if isinstance(value, numbers.Integral):
        return (int(value), int(value))
    if isinstance(value, torch.Size) or isinstance(value, (tuple, list)):
        items = tuple(value)
        if len(items) not in (1, 2):
            raise ArgumentValueError(
                "conv_transpose2d: expected %s to have 1 or 2 values, but got %d (%r)" % (name, len(items), value)
            )
        if not all(isinstance(v, numbers.Integral) and not isinstance(v, bool) for v in items):
            raise ArgumentTypeError("conv_transpose2d: expected %s to contain ints, but got %r" % (name, value))
        return tuple(int(v) for v in items) * (2 // len(items))
    raise ArgumentTypeError("conv_transpose2d: expected %s to be an int or a pair of ints, but got %r" % (name, value))


def check_geometry(stride, padding, output_padding, dilation, groups):
    if isinstance(groups, bool) or not isinstance(groups, numbers.Integral):
        raise ArgumentTypeError("conv_transpose2d: expected groups to be an int, but got %r" % (groups,))
    if groups <= 0:
        raise ArgumentValueError("conv_transpose2d: expected groups > 0, but got %d" % groups)
    for name, value, low in (("stride", stride, 1), ("dilation", dilation, 1), ("padding", padding, 0)):
        if min(value) < low:
            raise ArgumentValueError(
                "conv_transpose2d: expected %s >= %d in each dimension, but got %s" % (name, low, value)
            )
    for d in range(2):
        bound = max(stride[d], dilation[d])
        if not 0 <= output_padding[d] < bound:
            raise ArgumentValueError(
                "conv_transpose2d: expected output_padding in [0, max(stride, dilation)) = [0, %d) "
                "in dimension %d, but got %s" % (bound, d, output_padding)
            )


def check_tensors(input, weight, bias, groups):
    for name, t in (("input", input), ("weight", weight)):
        if not isinstance(t, torch.Tensor):
            raise ArgumentTypeError(
                "conv_transpose2d: expected %s to be a Tensor, but got %s" % (name, type(t).__name__)
            )
    if bias is not None and not isinstance(bias, torch.Tensor):
        raise ArgumentTypeError(
            "conv_transpose2d: expected bias to be a Tensor or None, but got %s" % type(bias).__name__
        )
    if input.dim() not in (3, 4):
        raise ArgumentValueError(
            "conv_transpose2d: expected input to be 3-D (unbatched) or 4-D (batched), but got input of "
            "size %s" % (tuple(input.shape),)
        )
    if weight.dim() != 4:
        raise ArgumentValueError(
            "conv_transpose2d: expected weight to be 4-D (in_channels, out_channels/groups, kH, kW), "
            "but got weight of size %s" % (tuple(weight.shape),)
        )
    cast = autocast_dtype(input.device.type)

    def dtype_of(t):  # the dtype the operator will see (after autocast's cast)
        return cast if cast is not None and is_autocast_eligible(t, input.device.type) else t.dtype
    if dtype_of(input) not in SUPPORTED_DTYPES:
        raise ArgumentTypeError(
            "conv_transpose2d: expected input dtype float32, float64, float16 or bfloat16, but got %s" % input.dtype
        )
    others = (("weight", weight),) + ((("bias", bias),) if bias is not None else ())
    for name, t in others:
        if dtype_of(t) != dtype_of(input):
            raise ArgumentTypeError(
                "conv_transpose2d: expected %s dtype %s (the input's), but got %s" % (name, input.dtype, t.dtype)
            )
        if t.device != input.device:
            raise ArgumentValueError(
                "conv_transpose2d: expected %s on device %s (the input's), but got %s" % (name, input.device, t.device)
            )
    if input.device.type not in ("cpu", "cuda", "meta"):  # meta: shapes only (fake / meta kernels)
        raise ArgumentValueError("conv_transpose2d: expected a CPU or CUDA tensor, but got device %s" % input.device)
    if min(input.shape[-2:]) <= 0:
        raise ArgumentValueError(
            "conv_transpose2d: expected input with non-zero height and width, but got input of size %s"
            % (tuple(input.shape),)
        )
    if min(weight.shape) <= 0:
        raise ArgumentValueError(
            "conv_transpose2d: expected a non-empty weight (every dimension >= 1), but got weight of size %s"
            % (tuple(weight.shape),)
        )
    channels = input.shape[-3]
    if weight.shape[0] % groups != 0:
        raise ArgumentValueError(
            "conv_transpose2d: expected weight.size(0) = %d divisible by groups = %d" % (weight.shape[0], groups)
        )
    if channels != weight.shape[0]:
        raise ArgumentValueError(
            "conv_transpose2d: expected input with %d channels (weight.size(0)), but got %d channels "
            "(input of size %s)" % (weight.shape[0], channels, tuple(input.shape))
        )
    if bias is not None:
        out_channels = weight.shape[1] * groups
        if bias.dim() != 1 or bias.shape[0] != out_channels:
            raise ArgumentValueError(
                "conv_transpose2d: expected bias of size (%d,) (out_channels), but got %s"
                % (out_channels, tuple(bias.shape))
            )


def autocast_dtype(device_type):
    """The dtype torch.autocast casts F.conv_transpose2d's arguments to on this
    device type, or None where autocast is off (or leaves the op alone). The
    operator's autocast kernels (csrc/autocast.cpp) cast the same way; this
    lets the dtype check above see the dtypes the operator will get."""
    if device_type not in ("cpu", "cuda"):
        return None
    if hasattr(torch, "get_autocast_dtype"):  # torch >= 2.4: per-device API
        if not torch.is_autocast_enabled(device_type):
            return None
        return torch.get_autocast_dtype(device_type)
    if device_type == "cuda":
        return torch.get_autocast_gpu_dtype() if torch.is_autocast_enabled() else None
    if not torch.is_autocast_cpu_enabled():
        return None
    # torch 1.x runs conv_transpose2d in float32 under CPU autocast; 2.x in the autocast dtype.
    return torch.get_autocast_cpu_dtype() if int(torch.__version__.split(".")[0]) >= 2 else torch.float32


def is_autocast_eligible(t, device_type):
    """Tensors autocast casts: floating point, not float64, on its device."""
    return t.is_floating_point() and t.dtype != torch.float64 and t.device.type == device_type


def output_extent(in_size, kernel, stride, padding, output_padding, dilation):
    return (in_size - 1) * stride - 2 * padding + dilation * (kernel - 1) + output_padding + 1


def check_output_size(input, weight, stride, padding, output_padding, dilation):
    size = tuple(
        output_extent(input.shape[-2 + d], weight.shape[2 + d], stride[d], padding[d], output_padding[d], dilation[d])
        for d in range(2)
    )
    if min(size) <= 0:
        raise ArgumentValueError(
            "conv_transpose2d: expected a positive output size, but got %s for input of size %s, kernel %s, "
            "stride %s, padding %s, output_padding %s, dilation %s"
            % (size, tuple(input.shape), tuple(weight.shape[2:]), stride, padding, output_padding, dilation)
        )


def output_padding_for_size(input, output_size, stride, padding, kernel_size, dilation):
    """output_padding that yields output_size, as nn.ConvTranspose2d documents.

    Spatial dims are always the input's last two, so unbatched input works too
    (torch's own module gets this wrong: pytorch#75889).
    """
    if isinstance(output_size, torch.Size) or isinstance(output_size, (list, tuple)):
        if not all(isinstance(s, numbers.Integral) and not isinstance(s, bool) for s in output_size):
            raise ArgumentTypeError(
                "ConvTranspose2d: expected output_size to contain ints, but got %r" % (output_size,)
            )
        sizes = [int(s) for s in output_size]
    else:
        raise ArgumentTypeError(
            "ConvTranspose2d: expected output_size to be a list or tuple of ints, but got %r" % (output_size,)
        )
    if len(sizes) not in (2, input.dim()):
        raise ArgumentValueError(
            "ConvTranspose2d: expected output_size of 2 values (or %d, the input's dims), but got %d (%r)"
            % (input.dim(), len(sizes), output_size)
        )
    sizes = sizes[-2:]
    smallest = [output_extent(input.shape[-2 + d], kernel_size[d], stride[d], padding[d], 0, dilation[d])
                for d in range(2)]
    largest = [smallest[d] + stride[d] - 1 for d in range(2)]
    if not all(smallest[d] <= sizes[d] <= largest[d] for d in range(2)):
        raise ArgumentValueError(
            "ConvTranspose2d: expected output_size between %s and %s for input of size %s, but got %s"
            % (tuple(smallest), tuple(largest), tuple(input.shape), tuple(sizes))
        )
    return tuple(sizes[d] - smallest[d] for d in range(2))
