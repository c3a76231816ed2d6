"""Probe of a lead (NOTES.md, session 12): a stride-s transposed convolution as s stride-1
ones, one per output width phase, each with only the width taps that land on that phase;
with the width folded into K, those have half the columns of today's path and no zero taps.

Output column ow = s*m + r takes taps J_r = {j : (r + pad - j*dil) % s == 0}, reading input
column m + (r + pad - j*dil) / s. So phase r is a stride-1 (width) transposed convolution of
the weight's taps J_r (the probe handles taps one input column apart, e.g. dilation 1),
computed here with padding 0 and sliced. Checks the decomposition against
F.conv_transpose2d, then times ours (width folding forced for the phases) against ours as
it is and cuDNN.

    python scripts/phase_fold_probe.py [--problems fcn_up,dcgan] [--dtypes tf32,ieee] [--check-only]
"""
import argparse

import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors
from gemm_convt._checks import output_extent


def phases(kw_size, stride, pad, dil):
    """Per output width phase r: the landing taps (ascending) and the shift p' of phase r."""
    out = []
    for r in range(stride):
        taps = [j for j in range(kw_size) if (r + pad - j * dil) % stride == 0]
        if not taps:
            out.append((taps, 0))
            continue
        steps = {(taps[i + 1] - taps[i]) * dil // stride for i in range(len(taps) - 1)}
        assert len(steps) <= 1 and (not steps or steps == {1}), "probe handles unit tap steps only"
        out.append((taps, (r + pad - taps[0] * dil) // stride))
    return out


def phase_weights(w, kw):
    """The weight's landing taps per width phase, as contiguous tensors (made once: indexing
    with a list of taps copies the index to the device and synchronises)."""
    sw, pw = kw["stride"][1], kw["padding"][1]
    dw = kw.get("dilation", (1, 1))[1]
    return [w[..., taps].contiguous() if taps else None for taps, _ in phases(w.shape[3], sw, pw, dw)]


def by_phases(conv, x, w, b, kw, weights=None):
    sh, sw = kw["stride"]
    ph, pw = kw["padding"]
    dh, dw = kw.get("dilation", (1, 1))
    channels = w.shape[1] * kw.get("groups", 1)
    oph, opw = kw.get("output_padding", (0, 0))
    out_h = output_extent(x.shape[2], w.shape[2], sh, ph, oph, dh)
    out_w = output_extent(x.shape[3], w.shape[3], sw, pw, opw, dw)
    out = torch.empty(x.shape[0], channels, out_h, out_w, device=x.device, dtype=x.dtype)
    parts = []
    weights = weights or phase_weights(w, kw)
    for r, (taps, shift) in enumerate(phases(w.shape[3], sw, pw, dw)):
        width = len(range(r, out_w, sw))
        w_r = weights[r]
        y = conv(x, w_r, b, stride=(sh, 1), padding=(ph, 0), output_padding=(oph, 0), dilation=(dh, 1))
        parts.append((r, y, shift, width))
    return out, parts


def assemble(out, parts, sw):
    for r, y, shift, width in parts:
        out[..., r::sw] = y[..., shift:shift + width]
    return out


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="fcn_up,dcgan")
    ap.add_argument("--dtypes", default="tf32,ieee")
    ap.add_argument("--check-only", action="store_true")
    args = ap.parse_args()
    # the decomposition, in float64 on the CPU
    g = torch.Generator().manual_seed(0)
    for kw in (dict(stride=(2, 2), padding=(1, 1)), dict(stride=(2, 2), padding=(1, 2)), dict(stride=(3, 3), padding=(2, 1))):
        x = torch.randn(2, 3, 5, 7, generator=g, dtype=torch.float64)
        w = torch.randn(3, 4, 4, 4, generator=g, dtype=torch.float64)
        b = torch.randn(4, generator=g, dtype=torch.float64)
        out, parts = by_phases(F.conv_transpose2d, x, w, b, kw)
        err = (assemble(out, parts, kw["stride"][1]) - F.conv_transpose2d(x, w, b, **kw)).abs().max().item()
        print("decomposition check", kw, "max abs err %.1e" % err)
        assert err < 1e-12
    if args.check_only or not torch.cuda.is_available():
        return
    from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script
    for name in args.problems.split(","):
        p = PROBLEMS[name]
        xs, w, b = make_tensors(p, torch.float32, "cuda", 1)
        x, kw = xs[0], call_kwargs(p)
        kw = {k: (v if isinstance(v, tuple) else (v, v)) if k in ("stride", "padding", "dilation", "output_padding") else v
              for k, v in kw.items()}
        ref = F.conv_transpose2d(x.double(), w.double(), b.double(), **kw)
        for dtype in args.dtypes.split(","):
            tf32 = dtype == "tf32"
            gemm_convt.set_allow_tf32(tf32)
            torch.backends.cudnn.allow_tf32 = tf32
            sub_weights = phase_weights(w, kw)
            with torch.no_grad():
                plain = lambda: gemm_convt.conv_transpose2d(x, w, b, **kw)  # noqa: E731

                def phased(assemble_out=True):
                    gemm_convt.set_width_folding(True)
                    out, parts = by_phases(gemm_convt.conv_transpose2d, x, w, b, kw, sub_weights)
                    gemm_convt.set_width_folding(None)
                    return assemble(out, parts, kw["stride"][1]) if assemble_out else out

                err = ((phased().double() - ref).norm() / ref.norm()).item()
                t_plain = median_ms(plain, iters=20)
                t_phased = median_ms(phased, iters=20)
                t_parts = median_ms(lambda: phased(False), iters=20)
                t_cudnn = median_ms(lambda: F.conv_transpose2d(x, w, b, **kw), iters=20)
                print("%-7s %-4s ours %.3f ms | by phases, folded: %.3f ms (without the copy %.3f) rel err %.1e "
                      "| cuDNN %.3f" % (name, dtype, t_plain, t_phased, t_parts, err, t_cudnn))
                for k, t, n in kernel_times(lambda: phased(False), top=5):
                    print("      %8.1f us %3dx %s" % (t, n, k))


if __name__ == "__main__":
    main()
