"""Argument normalisation and validation, done before any native code runs.

Messages follow ATen's "expected ..., but got ..." style and name the argument.
"""
import numbers

import torch

from .errors import ArgumentTypeError, ArgumentValueError

SUPPORTED_DTYPES = (torch.float32, torch.float64, torch.float16, torch.bfloat16)


def pair(value, name):
    """An int or a sequence of 1 or 2 ints, as torch's _pair accepts, to a tuple."""
    # The common spellings first, by exact type (a bool is not an int here): the checks
    # below cost microseconds a call, and small layers are bound by host time.
    if type(value) is int:
        return (value, value)
    if type(value) is tuple and len(value) == 2 and type(value[0]) is int and type(value[1]) is int:
        return value
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
    if type(groups) is not int and (isinstance(groups, bool) or not isinstance(groups, numbers.Integral)):
        raise ArgumentTypeError("conv_transpose2d: expected groups to be an int, but got %r" % (groups,))
    if groups <= 0:
        raise ArgumentValueError("conv_transpose2d: expected groups > 0, but got %d" % groups)
    (s0, s1), (p0, p1), (o0, o1), (d0, d1) = stride, padding, output_padding, dilation
    if s0 >= 1 and s1 >= 1 and d0 >= 1 and d1 >= 1 and p0 >= 0 and p1 >= 0 and \
            0 <= o0 < max(s0, d0) and 0 <= o1 < max(s1, d1):
        return  # valid: the loops below name what is not
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
    # Each tensor property read once (a read costs ~0.1-0.7 us of host time).
    in_shape, w_shape = input.shape, weight.shape
    if len(in_shape) not in (3, 4):
        raise ArgumentValueError(
            "conv_transpose2d: expected input to be 3-D (unbatched) or 4-D (batched), but got input of "
            "size %s" % (tuple(in_shape),)
        )
    if len(w_shape) != 4:
        raise ArgumentValueError(
            "conv_transpose2d: expected weight to be 4-D (in_channels, out_channels/groups, kH, kW), "
            "but got weight of size %s" % (tuple(w_shape),)
        )
    device, in_dtype = input.device, input.dtype
    device_type = device.type
    cast = autocast_dtype(device_type)

    def dtype_of(t, t_dtype):  # the dtype the operator will see (after autocast's cast)
        return cast if cast is not None and is_autocast_eligible(t, device_type) else t_dtype
    seen_dtype = dtype_of(input, in_dtype)
    if seen_dtype not in SUPPORTED_DTYPES:
        raise ArgumentTypeError(
            "conv_transpose2d: expected input dtype float32, float64, float16 or bfloat16, but got %s" % in_dtype
        )
    others = (("weight", weight),) + ((("bias", bias),) if bias is not None else ())
    for name, t in others:
        t_dtype = t.dtype
        if dtype_of(t, t_dtype) != seen_dtype:
            raise ArgumentTypeError(
                "conv_transpose2d: expected %s dtype %s (the input's), but got %s" % (name, in_dtype, t_dtype)
            )
        if t.device != device:
            raise ArgumentValueError(
                "conv_transpose2d: expected %s on device %s (the input's), but got %s" % (name, device, t.device)
            )
    if device_type not in ("cpu", "cuda", "meta"):  # meta: shapes only (fake / meta kernels)
        raise ArgumentValueError("conv_transpose2d: expected a CPU or CUDA tensor, but got device %s" % device)
    if min(in_shape[-2:]) <= 0:
        raise ArgumentValueError(
            "conv_transpose2d: expected input with non-zero height and width, but got input of size %s"
            % (tuple(in_shape),)
        )
    if min(w_shape) <= 0:
        raise ArgumentValueError(
            "conv_transpose2d: expected a non-empty weight (every dimension >= 1), but got weight of size %s"
            % (tuple(w_shape),)
        )
    channels, in_channels = in_shape[-3], w_shape[0]
    if in_channels % groups != 0:
        raise ArgumentValueError(
            "conv_transpose2d: expected weight.size(0) = %d divisible by groups = %d" % (in_channels, groups)
        )
    if channels != in_channels:
        raise ArgumentValueError(
            "conv_transpose2d: expected input with %d channels (weight.size(0)), but got %d channels "
            "(input of size %s)" % (in_channels, channels, tuple(in_shape))
        )
    if bias is not None:
        out_channels = w_shape[1] * groups
        b_shape = bias.shape
        if len(b_shape) != 1 or b_shape[0] != out_channels:
            raise ArgumentValueError(
                "conv_transpose2d: expected bias of size (%d,) (out_channels), but got %s"
                % (out_channels, tuple(b_shape))
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
    in_shape, w_shape = input.shape, weight.shape
    size = (output_extent(in_shape[-2], w_shape[2], stride[0], padding[0], output_padding[0], dilation[0]),
            output_extent(in_shape[-1], w_shape[3], stride[1], padding[1], output_padding[1], dilation[1]))
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
