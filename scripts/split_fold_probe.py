"""Probe (session 26): what would float32 as three TF32 products on width-folded
columns cost? Times, with stock torch GEMMs on the problem's chunk shapes (columns
of <= 32 MiB per chunk, as two chunks in flight at the 64 MiB cap), the folded
columns GEMM in TF32 with its contraction K = in_channels * fold taps and with 3K
(the split's hi/hi/lo stacking), beside the plain columns GEMM in IEEE float32
(SIMT), which the IEEE columns path runs today.

    python scripts/split_fold_probe.py [dcgan,fcn_up,...]
"""
import math
import sys

import torch

sys.path.insert(0, __file__.rsplit("/", 1)[0])
from cuda_timing import median_ms  # noqa: E402
from gemm_convt._bench.problems import PROBLEMS  # noqa: E402


def out_size(n, k, s, p, d, op):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def gemm_ms(batch, m, n, k, tf32):
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(batch, m, k, device="cuda")
    b = torch.randn(batch, k, n, device="cuda")
    c = torch.empty(batch, m, n, device="cuda")
    return median_ms(lambda: torch.bmm(a, b, out=c), iters=20)


def main():
    names = (sys.argv[1] if len(sys.argv) > 1 else "dcgan,fcn_up,kb71,kb78").split(",")
    print(torch.cuda.get_device_name(), torch.__version__)
    for name in names:
        p = PROBLEMS[name]
        kh, kw = p.kernel_size
        sh, sw = p.stride
        oh = out_size(p.input_size[0], kh, sh, p.padding[0], p.dilation[0], p.output_padding[0])
        ow = out_size(p.input_size[1], kw, sw, p.padding[1], p.dilation[1], p.output_padding[1])
        cin, cout = p.in_channels // p.groups, p.out_channels // p.groups
        phases, taps, length = sw, math.ceil(kw / sw), math.ceil(ow / sw)
        k = cin * taps
        n = cout * kh
        # positions per chunk: columns (phases * positions * n floats) <= 32 MiB
        line = length  # positions per input row
        rows_total = p.batch * p.input_size[0]
        lines = max(1, min(rows_total, (32 << 20) // 4 // (phases * n * line)))
        chunks = math.ceil(rows_total / lines)
        m = lines * line
        t1 = gemm_ms(phases, m, n, k, True) * chunks
        t3 = gemm_ms(phases, m, n, 3 * k, True) * chunks
        # plain columns in IEEE: positions = pixels, N = cout*kh*kw, K = cin
        plines = max(1, min(rows_total, (32 << 20) // 4 // (cout * kh * kw * p.input_size[1])))
        pchunks = math.ceil(rows_total / plines)
        ts = gemm_ms(1, plines * p.input_size[1], cout * kh * kw, cin, False) * pchunks
        print("%-8s fold: %d phases x (M=%d N=%d K=%d) x %d chunks: TF32 K %.3f ms, 3K %.3f ms | "
              "plain IEEE (M=%d N=%d K=%d) x %d: %.3f ms" %
              (name, phases, m, n, k, chunks, t1, t3, plines * p.input_size[1], cout * kh * kw, cin,
               pchunks, ts), flush=True)


if __name__ == "__main__":
    main()
