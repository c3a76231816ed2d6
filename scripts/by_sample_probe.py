"""The forward's columns GEMM batched over samples (no repack) against the repacked input,
on dcgan-like layers of several sample sizes: run once per GEMM_CONVT_BY_SAMPLE setting
(0: repack, 1: batched over samples at any size, unset: the rule) and compare the lines.

    GEMM_CONVT_BY_SAMPLE=1 python scripts/by_sample_probe.py [--sizes 4,6,8,16] [--dtypes tf32,ieee]
"""
import argparse
import os

import torch

import gemm_convt

from cuda_timing import host_and_wall_us, kernel_times, median_ms  # scripts/ is on sys.path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--sizes", default="4,6,8,16", help="input H = W of the dcgan-like layer")
    ap.add_argument("--dtypes", default="tf32,ieee")
    ap.add_argument("--batch", type=int, default=128)
    args = ap.parse_args()
    tag = "by_sample=%s overlap=%s" % (os.environ.get("GEMM_CONVT_BY_SAMPLE", "rule"),
                                      os.environ.get("GEMM_CONVT_OVERLAP", "on"))
    g = torch.Generator(device="cuda").manual_seed(0)
    for dtype in args.dtypes.split(","):
        gemm_convt.set_allow_tf32(dtype == "tf32")
        for size in (int(s) for s in args.sizes.split(",")):
            x = torch.randn(args.batch, 512, size, size, device="cuda", generator=g)
            w = torch.randn(512, 256, 4, 4, device="cuda", generator=g) / 90.0
            b = torch.randn(256, device="cuda", generator=g)
            with torch.no_grad():
                call = lambda: gemm_convt.conv_transpose2d(x, w, b, stride=2, padding=1)
                ms = median_ms(call, iters=30, warmup=5)
                host, wall = host_and_wall_us(call)
                kernels = kernel_times(call, top=3)
            print("%-5s %2dx%-2d %s  %.3f ms  host %6.1f us  wall %6.1f us  | %s" % (
                dtype, size, size, tag, ms, host, wall,
                "; ".join("%.0f us %dx %s" % (t, n, k[:40]) for k, t, n in kernels)))


if __name__ == "__main__":
    main()
