"""Probe (session 26): what would float32 as three TF32 products cost with operands
cuBLAS runs its sm90 kernels on? Times stock torch GEMMs on the problem's chunk shapes
(<= 32 MiB of float32 columns per chunk: two chunks in flight at the 64 MiB cap):

- plain columns (K = in_channels per group, N = out_channels * kh * kw):
  IEEE float32 (the IEEE columns path today); TF32 with K tripled (the split's hi/hi/lo
  stacking) with the operands as the split path makes them today (A M-major, B N-major:
  cuBLAS "nt") and both K-major ("tn", as the TF32 and folded paths use);
- width-folded columns (K = in_channels * fold taps, N = out_channels * kh, one GEMM per
  phase): TF32 at K and at 3K, K-major.

Columns come out pixel-fastest, as the library writes them: torch computes them as
[N, M] = B[N, K] @ A[K, M].

    python scripts/split_fold_probe.py [dcgan,fcn_up,...]
"""
import math
import os
import sys

import torch

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from cuda_timing import median_ms  # noqa: E402

# The suite's columns problems (gemm_convt/_bench/problems.py), kept here so that the probe
# runs without the extension: batch, in, out, (kh, kw), (in_h, in_w), stride_w, pad_w, groups.
Problem = __import__("collections").namedtuple("Problem", "batch cin cout kernel size stride_w pad_w groups")
PROBLEMS = {
    "kb57": Problem(8, 64, 64, (3, 3), (1024, 1024), 1, 0, 1),
    "kb65": Problem(8, 64, 64, (3, 7), (512, 512), 1, 0, 1),
    "kb69": Problem(64, 64, 128, (3, 5), (128, 256), 1, 0, 1),
    "kb71": Problem(8, 32, 32, (3, 3), (512, 1024), 1, 0, 1),
    "kb75": Problem(16, 32, 64, (3, 5), (128, 256), 3, 2, 4),
    "kb78": Problem(8, 32, 32, (3, 7), (512, 1024), 1, 3, 1),
    "dcgan": Problem(128, 512, 256, (4, 4), (8, 8), 2, 1, 1),
    "fcn_up": Problem(16, 256, 256, (4, 4), (64, 64), 2, 1, 1),
}


def out_size(n, k, s, p, d, op):
    return (n - 1) * s - 2 * p + d * (k - 1) + op + 1


def gemm_ms(batch, m, n, k, tf32, a_k_major, b_k_major):
    """[batch] x ([n, k] @ [k, m]) -> [batch, n, m], operands in the asked layouts."""
    torch.backends.cuda.matmul.allow_tf32 = tf32
    a = torch.randn(batch, m, k, device="cuda").transpose(1, 2) if a_k_major else torch.randn(batch, k, m, device="cuda")
    b = torch.randn(batch, n, k, device="cuda") if b_k_major else torch.randn(batch, k, n, device="cuda").transpose(1, 2)
    c = torch.empty(batch, n, m, device="cuda")
    return median_ms(lambda: torch.bmm(b, a, out=c), iters=20)


def main():
    names = (sys.argv[1] if len(sys.argv) > 1 else "dcgan,fcn_up,kb71,kb78").split(",")
    print(torch.cuda.get_device_name(), torch.__version__)
    for name in names:
        p = PROBLEMS[name]
        kh, kw = p.kernel
        sw = p.stride_w
        ow = out_size(p.size[1], kw, sw, p.pad_w, 1, 0)
        cin, cout = p.cin // p.groups, p.cout // p.groups
        rows_total = p.batch * p.size[0]
        # plain columns
        n = cout * kh * kw
        lines = max(1, min(rows_total, (32 << 20) // 4 // (n * p.size[1])))
        chunks = math.ceil(rows_total / lines) * p.groups
        m = lines * p.size[1]
        ieee = gemm_ms(1, m, n, cin, False, False, False) * chunks
        tf32 = gemm_ms(1, m, n, cin, True, True, True) * chunks
        nt3 = gemm_ms(1, m, n, 3 * cin, True, False, False) * chunks
        tn3 = gemm_ms(1, m, n, 3 * cin, True, True, True) * chunks
        print("%-8s plain (M=%d N=%d K=%d) x %d: IEEE %.3f ms | TF32 K tn %.3f | TF32 3K nt %.3f, tn %.3f"
              % (name, m, n, cin, chunks, ieee, tf32, nt3, tn3), flush=True)
        # folded columns
        phases, taps, length = sw, math.ceil(kw / sw), math.ceil(ow / sw)
        fn, fk = cout * kh, cin * taps
        flines = max(1, min(rows_total, (32 << 20) // 4 // (phases * fn * length)))
        fchunks = math.ceil(rows_total / flines) * p.groups
        fm = flines * length
        f1 = gemm_ms(phases, fm, fn, fk, True, True, True) * fchunks
        f3 = gemm_ms(phases, fm, fn, 3 * fk, True, True, True) * fchunks
        print("%-8s folded %d phases x (M=%d N=%d K=%d) x %d: TF32 K %.3f ms, 3K %.3f"
              % (name, phases, fm, fn, fk, fchunks, f1, f3), flush=True)


if __name__ == "__main__":
    main()
