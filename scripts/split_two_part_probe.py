"""Does a two-part split pay on dcgan's folded columns GEMM? (NOTES.md session 38, call 5: the
64 MiB cap holds dcgan's split GEMM to chunks of 9 samples, 572 us; at 128 MiB, 26 samples,
381 us.) Stock cuBLAS through torch, TF32, on the library's folded shapes (per phase: A =
samples x 64 positions by K, B = 1024 columns rows by K, both K-major, the two width phases as
a batch), the whole batch of 128 samples chunk by chunk, GEMMs only:

  three-part S   one GEMM a chunk over K = 3 x 1024 (the parts stacked, as the library does)
  two-part S     GEMM 1 over K = 2 x 1024 (the two cross products), then GEMM 2 over the hi
                 halves as sub-views (K = 1024, beta = 1): no part stored twice, so ~16
                 samples a chunk fit where 9 do now

  one-part S     TF32's single product (K = 1024), for the same sweep of chunk widths

Each line: samples a chunk, chunks, the workspace the chunk's operands and columns take
(two buffers, plus the weight: 24 MiB three-part, 16 two-part, 8 one-part), and the GEMMs'
median time for all 128 samples. Values are random; only the time is read. Session 38 (H200):
three-part 9 samples 0.64-0.68 ms, 8 samples 0.471, 16 samples 0.337; two-part 15 samples
0.528 (NOTES.md, calls 7-9).

    python scripts/split_two_part_probe.py [--samples 9,16,26] [--parts three,two,one]
"""
import argparse

import torch

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script

BATCH, POSITIONS, PHASES, K0, M = 128, 64, 2, 1024, 1024  # dcgan: 8x8 inputs, 512 ch x 2 taps, 256 ch x 4 rows
MIB = 1 << 20


def run_stacked(samples, parts):
    """One GEMM a chunk over K = parts x 1024: three the library's split, one its TF32."""
    a = torch.randn(PHASES, samples * POSITIONS, parts * K0, device="cuda")
    b = torch.randn(PHASES, M, parts * K0, device="cuda")
    c = torch.empty(PHASES, samples * POSITIONS, M, device="cuda")
    chunks = (BATCH + samples - 1) // samples

    def step():
        for _ in range(chunks):
            torch.bmm(a, b.transpose(1, 2), out=c)
    operand_bytes = 4 * (a.numel() + c.numel())
    return step, chunks, (2 * operand_bytes + 4 * b.numel()) / MIB


def run_two_part(samples):
    a = torch.randn(PHASES, samples * POSITIONS, 2 * K0, device="cuda")  # [lo | hi]
    b = torch.randn(PHASES, M, 2 * K0, device="cuda")  # [hi | lo]
    c = torch.empty(PHASES, samples * POSITIONS, M, device="cuda")
    a_hi, b_hi = a[:, :, K0:], b[:, :, :K0]  # sub-views, row stride 2 * K0
    chunks = (BATCH + samples - 1) // samples

    def step():
        for _ in range(chunks):
            torch.bmm(a, b.transpose(1, 2), out=c)  # lo.hi + hi.lo
            c.baddbmm_(a_hi, b_hi.transpose(1, 2))  # + hi.hi, last
    operand_bytes = 4 * (a.numel() + c.numel())
    return step, chunks, (2 * operand_bytes + 4 * b.numel()) / MIB


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--samples", default="9,16,26")
    ap.add_argument("--parts", default="three,two", help="any of three, two, one (TF32)")
    args = ap.parse_args()
    runs = {"three": lambda n: run_stacked(n, 3), "two": run_two_part, "one": lambda n: run_stacked(n, 1)}
    torch.backends.cuda.matmul.allow_tf32 = True
    print("dcgan folded split GEMM, %s, torch %s" % (torch.cuda.get_device_name(), torch.__version__))
    for samples in [int(s) for s in args.samples.split(",")]:
        for part in args.parts.split(","):
            name = part + "-part"
            step, chunks, mib = runs[part](samples)
            ms = median_ms(step, iters=20, warmup=3)
            print("%-10s %2d samples a chunk  %2d chunks  workspace %5.1f MiB  GEMMs %.3f ms" %
                  (name, samples, chunks, mib, ms))
            del step
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
