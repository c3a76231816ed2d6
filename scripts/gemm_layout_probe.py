"""cuBLAS rate of the forward's columns GEMM (columns[n x m] = W[n x k] · X[k x m],
m = chunk pixels, n = Cout·taps, k = Cin) for each operand layout: X pixel-major
(NCHW, today's A) or channel-major (channels_last / a repacked chunk), W K-major
or N-major. Prints time, rate and the kernel cuBLAS runs."""
import argparse

import torch
from torch.profiler import ProfilerActivity, profile

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script

SHAPES = {  # name: (m, n, k)
    "fcn_up/32MiB": (1920, 4096, 256),
    "fcn_up/64MiB": (4032, 4096, 256),
    "dcgan": (2048, 4096, 512),
    "unet_up": (65536, 256, 128),
    "kb81": (65536, 576, 32),
    "kb71": (16384, 288, 32),
}


def first_kernel(fn):
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    names = [e.name for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
    return names[0][:70] if names else "?"


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtypes", default="tf32,float16")
    args = ap.parse_args()
    for dt in args.dtypes.split(","):
        torch.backends.cuda.matmul.allow_tf32 = dt == "tf32"
        dtype = torch.float32 if dt in ("tf32", "ieee") else getattr(torch, dt)
        for name, (m, n, k) in SHAPES.items():
            for x_layout in ("pixel-major", "channel-major"):
                for w_layout in ("K-major", "N-major"):
                    x = torch.randn(k, m, device="cuda", dtype=dtype) if x_layout == "pixel-major" \
                        else torch.randn(m, k, device="cuda", dtype=dtype).t()
                    w = torch.randn(n, k, device="cuda", dtype=dtype) if w_layout == "K-major" \
                        else torch.randn(k, n, device="cuda", dtype=dtype).t()
                    c = torch.empty(n, m, device="cuda", dtype=dtype)
                    fn = lambda: torch.mm(w, x, out=c)  # noqa: E731
                    ms = median_ms(fn, iters=30, warmup=5)
                    print("%-6s %-13s X %-13s W %-7s %.3f ms %5.0f TFLOP/s %5.0f GB/s out  %s"
                          % (dt, name, x_layout, w_layout, ms, 2 * m * n * k / ms / 1e9,
                             m * n * c.element_size() / ms / 1e6, first_kernel(fn)), flush=True)


if __name__ == "__main__":
    main()
