"""KernelBench level-1 #71 (transposed 2-D convolution, asymmetric input,
square kernel) with gemm_convt as the kernel: the reference `Model`, the
`get_inputs` / `get_init_inputs` the harness calls, and `ModelNew`, which
keeps all three and the reference's weights (same constructor, same random
initialisation) and computes the layer with gemm_convt.

Run it to check ModelNew the way KernelBench does (same seed for both
models, fresh inputs per trial, outputs compared with atol = rtol = 1e-4,
in grad mode with parameters that require grad) and time both:

    python examples/kernelbench_71.py                     # the problem's own size (use a GPU)
    python examples/kernelbench_71.py --height 64 --width 128 --batch 2   # small, for a CPU
"""
import argparse
import time

import torch
import torch.nn as nn

import gemm_convt

# --- the KernelBench problem (reference) ----------------------------------------


class Model(nn.Module):
    """Performs a transposed 2D convolution with asymmetric input and a square kernel."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, groups: int = 1, bias: bool = False):
        super().__init__()
        self.conv_transpose2d = nn.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=stride,
                                                   padding=padding, output_padding=output_padding, groups=groups,
                                                   bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_transpose2d(x)


batch_size = 8
in_channels = 32
out_channels = 32
kernel_size = 3
height_in = 512
width_in = 1024


def get_inputs():
    x = torch.randn(batch_size, in_channels, height_in, width_in)
    return [x]


def get_init_inputs():
    return [in_channels, out_channels, kernel_size]


# --- the submission ---------------------------------------------------------------


class ModelNew(nn.Module):
    """Model with its layer computed by gemm_convt. gemm_convt.ConvTranspose2d is
    an nn.ConvTranspose2d (same constructor, parameters, initialisation and
    state_dict), so under the same seed ModelNew gets Model's weights."""

    def __init__(self, in_channels: int, out_channels: int, kernel_size: int, stride: int = 1, padding: int = 0,
                 output_padding: int = 0, groups: int = 1, bias: bool = False):
        super().__init__()
        self.conv_transpose2d = gemm_convt.ConvTranspose2d(in_channels, out_channels, kernel_size, stride=stride,
                                                           padding=padding, output_padding=output_padding,
                                                           groups=groups, bias=bias)

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return self.conv_transpose2d(x)


# --- a KernelBench-style check -------------------------------------------------------


def _time_ms(model, x, device, iters):
    model(x)  # warm-up
    if device.type == "cuda":
        torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(iters):
        model(x)
    if device.type == "cuda":
        torch.cuda.synchronize()
    return (time.perf_counter() - t0) * 1e3 / iters


def check(device, trials=5, atol=1e-4, rtol=1e-4, iters=10, seed=42):
    """Same seed for both models, fresh inputs per trial, allclose(atol, rtol)."""
    init = get_init_inputs()
    torch.manual_seed(seed)
    reference = Model(*init).to(device)
    torch.manual_seed(seed)
    candidate = ModelNew(*init).to(device)
    same_weights = all(torch.equal(a, b) for a, b in zip(reference.state_dict().values(),
                                                          candidate.state_dict().values()))
    print("weights identical to Model's: %s" % same_weights)
    passed = 0
    for trial in range(trials):
        torch.manual_seed(seed + 1 + trial)
        inputs = [t.to(device) for t in get_inputs()]
        ref, out = reference(*inputs), candidate(*inputs)  # grad mode, as the harness runs it
        ok = out.shape == ref.shape and torch.allclose(out, ref, atol=atol, rtol=rtol)
        excess = ((out - ref).abs() / (atol + rtol * ref.abs())).max().item()
        print("trial %d: %s (max |out - ref| / (atol + rtol·|ref|) = %.3f)" % (trial, "pass" if ok else "FAIL",
                                                                            excess))
        passed += ok
    x = get_inputs()[0].to(device)
    print("Model %.3f ms, ModelNew %.3f ms (wall clock, mean of %d, %s)" % (
        _time_ms(reference, x, device, iters), _time_ms(candidate, x, device, iters), iters, device))
    return same_weights and passed == trials


def main(argv=None):
    global batch_size, height_in, width_in
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=batch_size)
    parser.add_argument("--height", type=int, default=height_in)
    parser.add_argument("--width", type=int, default=width_in)
    parser.add_argument("--trials", type=int, default=5)
    parser.add_argument("--iters", type=int, default=10)
    args = parser.parse_args(argv)
    batch_size, height_in, width_in = args.batch, args.height, args.width
    print("KernelBench level 1 #71: batch %d, %d -> %d channels, kernel %d, input %dx%d" % (
        batch_size, in_channels, out_channels, kernel_size, height_in, width_in))
    ok = check(torch.device(args.device), args.trials, iters=args.iters)
    print("ModelNew matches Model: %s" % ok)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
