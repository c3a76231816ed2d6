"""Probe: would the backward's thin GEMMs run faster with K split into a batch?

grad_weight per chunk is C (rows x Cin_g) = cols (rows x L) . x (L x Cin_g)ᵀ with
L = a band's pixels: a small output and a long K, which cuBLAS runs at a fraction of
its rate (few output tiles, split-K inside one launch). Here K is split into s
slices as a batch of s GEMMs into s partial outputs, which one sum then adds
(deterministic). grad_input per chunk, C (L x Cin_g) = colsᵀ . wᵀ, is timed as is
for scale.

    python scripts/splitk_probe.py [--shapes rows x cin x L,...] [--slices 1,8,16,32,64]
"""
import argparse

import torch

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    # kb69, kb65, kb57, kb78, kb71: rows = Cout * taps, Cin_g, L = band pixels (60 MiB columns)
    ap.add_argument("--shapes", default="1920x64x8192,1344x64x11264,576x64x26624,672x32x22528,288x32x54272")
    ap.add_argument("--slices", default="1,8,16,32,64")
    args = ap.parse_args()
    print("torch", torch.__version__, torch.cuda.get_device_name())
    for shape in args.shapes.split(","):
        rows, cin, length = (int(v) for v in shape.split("x"))
        cols = torch.randn(rows, length, device="cuda")
        x = torch.randn(cin, length, device="cuda")
        w = torch.randn(cin, rows, device="cuda")
        ref = (x.double() @ cols.double().t())
        for tf32 in (False, True):
            torch.backends.cuda.matmul.allow_tf32 = tf32
            flops = 2.0 * rows * cin * length
            gi = median_ms(lambda: torch.mm(cols.t(), w.t()))
            line = "%-14s %s grad_input %7.1f us %5.1f TF/s | grad_weight" % (
                shape, "tf32" if tf32 else "ieee", 1e3 * gi, flops / gi / 1e9)
            for s in (int(v) for v in args.slices.split(",")):
                if length % s:
                    continue
                cv = cols.view(rows, s, length // s).transpose(0, 1)  # s x rows x L/s, ld = L
                xv = x.view(cin, s, length // s).permute(1, 2, 0)     # s x L/s x cin
                part = torch.empty(s, rows, cin, device="cuda")
                out = torch.empty(rows, cin, device="cuda")

                def run():
                    torch.bmm(cv, xv, out=part)
                    torch.sum(part, 0, out=out)

                ms = median_ms(run)
                err = ((out.t().double() - ref).norm() / ref.norm()).item()
                line += "  s=%d %6.1f us (%4.1f TF/s, err %.0e)" % (s, 1e3 * ms, flops / ms / 1e9, err)
            print(line, flush=True)


if __name__ == "__main__":
    main()
