"""Benchmark problems: one nn.ConvTranspose2d call (the suite's or one given on
the command line) and what a perfect implementation must move and compute."""
import collections

import torch

from .._checks import check_geometry, output_extent, pair

Problem = collections.namedtuple("Problem", [
    "name", "batch", "in_channels", "out_channels", "kernel_size", "input_size", "stride", "padding",
    "output_padding", "dilation", "groups", "bias"])


def problem(name, batch, in_channels, out_channels, kernel_size, input_size, stride=1, padding=0,
            output_padding=0, dilation=1, groups=1, bias=True):
    """A validated Problem with every pair argument as a 2-tuple."""
    p = Problem(name, int(batch), int(in_channels), int(out_channels), pair(kernel_size, "kernel_size"),
                pair(input_size, "input_size"), pair(stride, "stride"), pair(padding, "padding"),
                pair(output_padding, "output_padding"), pair(dilation, "dilation"), groups, bool(bias))
    check_geometry(p.stride, p.padding, p.output_padding, p.dilation, p.groups)
    for label, value in (("batch", p.batch), ("in_channels", p.in_channels), ("out_channels", p.out_channels)):
        if value < 1:
            raise ValueError("expected %s >= 1, but got %d" % (label, value))
    if min(p.kernel_size) < 1 or min(p.input_size) < 1:
        raise ValueError("expected kernel_size and input_size >= 1, but got %s and %s" % (p.kernel_size, p.input_size))
    if p.in_channels % p.groups or p.out_channels % p.groups:
        raise ValueError("expected in_channels = %d and out_channels = %d divisible by groups = %d"
                         % (p.in_channels, p.out_channels, p.groups))
    if min(output_size(p)) < 1:
        raise ValueError("expected a positive output size, but got %s" % (output_size(p),))
    return p


def output_size(p):
    return tuple(output_extent(p.input_size[d], p.kernel_size[d], p.stride[d], p.padding[d], p.output_padding[d],
                               p.dilation[d]) for d in range(2))


# The suite: KernelBench level-1 transposed-convolution problems and the
# upsampling layers of common models. cpu_small is the CPU default.
PROBLEMS = {p.name: p for p in [
    problem("kb57", 8, 64, 64, 3, (1024, 1024), bias=False),
    problem("kb65", 8, 64, 64, (3, 7), (512, 512), bias=False),
    problem("kb69", 64, 64, 128, (3, 5), (128, 256), bias=False),
    problem("kb71", 8, 32, 32, 3, (512, 1024), bias=False),
    problem("kb75", 16, 32, 64, (3, 5), (128, 256), (2, 3), (1, 2), dilation=(2, 1), groups=4, bias=False),
    problem("kb78", 8, 32, 32, (3, 7), (512, 1024), padding=(1, 3), bias=False),
    problem("kb81", 16, 32, 64, 3, (64, 128), 5, 1, dilation=2, bias=False),
    problem("unet_up", 8, 128, 64, 2, (256, 256), 2),
    problem("dcgan", 128, 512, 256, 4, (8, 8), 2, 1),
    problem("fcn_up", 16, 256, 256, 4, (64, 64), 2, 1),
    problem("cpu_small", 2, 16, 16, 3, (64, 64), 2, 1),
]}
SUITE = ["kb57", "kb65", "kb69", "kb71", "kb75", "kb78", "kb81", "unet_up", "dcgan", "fcn_up"]


def describe(p):
    """One line: the nn.ConvTranspose2d call and the tensor sizes."""
    pairs = lambda v: "%d" % v[0] if v[0] == v[1] else "%dx%d" % v  # noqa: E731
    parts = ["N=%d" % p.batch, "%d->%d" % (p.in_channels, p.out_channels), "k" + pairs(p.kernel_size),
             "s" + pairs(p.stride), "p" + pairs(p.padding)]
    if any(p.output_padding):
        parts.append("op" + pairs(p.output_padding))
    if p.dilation != (1, 1):
        parts.append("d" + pairs(p.dilation))
    if p.groups != 1:
        parts.append("g%d" % p.groups)
    parts.append("%dx%d -> %dx%d" % (p.input_size + output_size(p)))
    if not p.bias:
        parts.append("no bias")
    return " ".join(parts)


def costs(p, element_size, mode="forward"):
    """What the problem and the decomposition must move and compute.

    flops: 2·N·H·W·Cin·(Cout/groups)·kh·kw per GEMM; training (forward and
    backward of the layer) adds grad_input and grad_weight, 3 GEMMs in all.
    problem_bytes: every tensor the call reads or writes, once (training:
    input, weight, bias, output, grad_output and the three gradients).
    columns_bytes: the columns buffer, Cout·kh·kw values per input pixel, in the
    input's dtype. decomposition_bytes: the problem's bytes plus the columns
    written and read once (forward); training adds im2col(grad_output) written
    once and read by the grad_input and grad_weight GEMMs.
    """
    n, (h, w), (kh, kw) = p.batch, p.input_size, p.kernel_size
    oh, ow = output_size(p)
    x = n * p.in_channels * h * w
    y = n * p.out_channels * oh * ow
    weight = p.in_channels * (p.out_channels // p.groups) * kh * kw
    bias = p.out_channels if p.bias else 0
    columns = n * h * w * p.out_channels * kh * kw
    gemms = 3 if mode == "train" else 1
    flops = gemms * 2.0 * n * h * w * p.in_channels * (p.out_channels // p.groups) * kh * kw
    tensors = x + weight + bias + y
    if mode == "train":
        tensors *= 2  # grad_output like output, gradients like their tensors
    column_passes = 5 if mode == "train" else 2
    return dict(flops=flops, problem_bytes=element_size * tensors, columns_bytes=element_size * columns,
                decomposition_bytes=element_size * (tensors + column_passes * columns))


def make_tensors(p, dtype, device, copies=1, seed=0):
    """`copies` inputs (rotated while timing), weight and bias; fresh random values."""
    g = torch.Generator(device="cpu").manual_seed(seed)
    xs = [torch.randn(p.batch, p.in_channels, *p.input_size, generator=g).to(device, dtype) for _ in range(copies)]
    fan_in = p.in_channels * p.kernel_size[0] * p.kernel_size[1]
    w = (torch.randn(p.in_channels, p.out_channels // p.groups, *p.kernel_size, generator=g) / fan_in ** 0.5)
    b = torch.randn(p.out_channels, generator=g) if p.bias else None
    return xs, w.to(device, dtype), None if b is None else b.to(device, dtype)


def call_kwargs(p):
    return dict(stride=p.stride, padding=p.padding, output_padding=p.output_padding, dilation=p.dilation,
                groups=p.groups)
