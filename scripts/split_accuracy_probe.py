"""Probe (session 26): the error of float32 as three TF32 products in one stock TF32 GEMM
(the parts stacked along K), against float64, by how the parts are made and ordered.
Folded split (session 26) measured 2.4e-6 (fcn_up, K = 3 x 512) and 4.4e-6 (dcgan,
K = 3 x 1024) where IEEE float32 gave 1.2-1.8e-7 and the implicit GEMM's in-register
three products 1.2e-7: the error grows with K.

Variants (A = [M, K], B = [K, N], x = hi + lo with hi = TF32 rounding of x):
  ieee          float32 SIMT GEMM
  stacked       [A_hi | A_hi | A_lo] . [B_hi ; B_lo ; B_hi]  (the library's order)
  stacked_rna   the same with lo rounded to TF32 (cvt.rna) instead of truncated by the tensor cores
  small_first   the cross blocks first: [A_lo | A_hi | A_hi] . [B_hi ; B_lo ; B_hi]... K order lo, cross, hi
  interleaved   the three blocks interleaved in steps of `step` K values (the cross terms of a
                K step before its hi x hi), rna lo
    python scripts/split_accuracy_probe.py
"""
import torch


def tf32_rna(x):
    """x rounded to TF32 (10 mantissa bits), ties away from zero, as cvt.rna does."""
    i = x.view(torch.int32)
    return ((i + 0x1000) & ~0x1FFF).view(torch.float32)


def rel(y, ref):
    return ((y.double() - ref).norm() / ref.norm()).item()


def main():
    torch.backends.cuda.matmul.allow_tf32 = True
    g = torch.Generator(device="cuda").manual_seed(0)
    print(torch.cuda.get_device_name(), torch.__version__)
    for m, n, k in [(4096, 1024, 512), (4096, 1024, 1024), (4096, 1024, 2048)]:
        a = torch.randn(m, k, device="cuda", generator=g)
        b = torch.randn(k, n, device="cuda", generator=g) / k ** 0.5
        ref = a.double() @ b.double()
        torch.backends.cuda.matmul.allow_tf32 = False
        ieee = a @ b
        torch.backends.cuda.matmul.allow_tf32 = True
        a_hi, b_hi = tf32_rna(a), tf32_rna(b)
        a_lo, b_lo = a - a_hi, b - b_hi
        a_lr, b_lr = tf32_rna(a_lo), tf32_rna(b_lo)
        out = {"ieee": ieee,
               "stacked": torch.cat([a_hi, a_hi, a_lo], 1) @ torch.cat([b_hi, b_lo, b_hi], 0),
               "stacked_rna": torch.cat([a_hi, a_hi, a_lr], 1) @ torch.cat([b_hi, b_lr, b_hi], 0),
               "small_first": torch.cat([a_lr, a_hi, a_hi], 1) @ torch.cat([b_hi, b_lr, b_hi], 0)}
        for step in (8, 32, 64):
            parts_a = [a_lr, a_hi, a_hi]
            parts_b = [b_hi, b_lr, b_hi]
            ia = torch.stack([p.view(m, k // step, step) for p in parts_a], 2).reshape(m, 3 * k)
            ib = torch.stack([p.view(k // step, step, n) for p in parts_b], 1).reshape(3 * k, n)
            out["interleaved%d" % step] = ia @ ib
        print("M=%d N=%d K=%d: " % (m, n, k) + "  ".join("%s %.2e" % (name, rel(y, ref)) for name, y in out.items()),
              flush=True)


if __name__ == "__main__":
    main()
