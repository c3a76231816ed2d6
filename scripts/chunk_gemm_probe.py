"""How fast cuBLAS runs a split columns GEMM per chunk size: the GEMM's time per sample against
samples per chunk, for dcgan's two split forms (session 42, call 6: 14 chunks of ~9 samples ran
its GEMM at 45% of the TF32 rate, one launch of 128 at 91%). Stock torch.matmul on TF32 with
the library's operand shapes (the library calls cuBLAS directly; torch may pick other kernels
for the same shapes, so this maps the shape's cost, not our call's).

    python scripts/chunk_gemm_probe.py [--samples 4,6,8,...] [--pixels 64] [--cin 512] [--cout 256]

- folded: the width fold (two width taps a phase, two phases) and the split's three parts:
  per phase C[cout * kh, pixels] = B[cout * kh, 3 * 2 * cin] . A[pixels, 3 * 2 * cin]^T.
- plain: no fold, the split's three parts: C[cout * 16, pixels] = B[cout * 16, 3 * cin] .
  A[pixels, 3 * cin]^T.
Bytes a sample (float32 columns + made A) are printed beside, against a 64 MiB cap's buffers.
"""
import argparse

import torch

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--samples", default="4,6,8,9,10,12,14,16,20,24,27,32,48,64,128")
    ap.add_argument("--pixels", type=int, default=64, help="input pixels a sample (dcgan: 8 x 8)")
    ap.add_argument("--cin", type=int, default=512)
    ap.add_argument("--cout", type=int, default=256)
    args = ap.parse_args()
    torch.backends.cuda.matmul.allow_tf32 = True
    dev = torch.device("cuda")
    forms = {  # name: (batch, rows of C, K)
        "folded": (2, args.cout * 4, 3 * 2 * args.cin),
        "plain": (1, args.cout * 16, 3 * args.cin),
    }
    for name, (batch, rows, k) in forms.items():
        weight = torch.randn(batch, rows, k, device=dev)
        per_sample_mib = batch * args.pixels * (rows + k) * 4 / 2**20
        print("== %s: C[%d x %d, pixels] = B[.., K=%d] . A^T; columns + A %.2f MiB a sample" % (
            name, batch, rows, k, per_sample_mib), flush=True)
        for s in (int(v) for v in args.samples.split(",")):
            pixels = s * args.pixels
            a = torch.randn(batch, pixels, k, device=dev)
            ms = median_ms(lambda: torch.matmul(weight, a.transpose(1, 2)), iters=20)
            macs = batch * rows * pixels * k
            print("  samples %4d  %8.1f us  %6.2f us a sample  %6.1f e12 MAC/s  (%5.1f MiB)" % (
                s, ms * 1e3, ms * 1e3 / s, macs / (ms * 1e-3) / 1e12, s * per_sample_mib), flush=True)
            del a
        del weight


if __name__ == "__main__":
    main()
