"""Probe: stride-1 grad_input as the forward of a derived transposed convolution
(grad_output in, weight flipped with its channel roles swapped, padding
dilation*(k-1) - padding), timed beside the backward as it runs ("now": im2col + GEMM
before 9749dc9; since then the derived forward itself where its cost model picks it).
    python scripts/grad_input_probe.py [problem ...]
"""
import sys

import torch

import gemm_convt
from cuda_timing import kernel_times, median_ms, problem_tensors


def derived(w, kw):
    g = kw["groups"]
    cin, cout_g, kh, kwid = w.shape
    v = w.view(g, cin // g, cout_g, kh, kwid).transpose(1, 2).flip(3, 4).reshape(g * cout_g, cin // g, kh, kwid)
    pad = tuple(kw["dilation"][i] * (w.shape[2 + i] - 1) - kw["padding"][i] for i in range(2))
    return v.contiguous(), dict(stride=1, padding=pad, dilation=kw["dilation"], groups=g)


def main(names):
    for tf32 in (False, True):
        gemm_convt.set_allow_tf32(tf32)
        for name in names:
            x, w, _, kw = problem_tensors(name)
            out = gemm_convt.conv_transpose2d(x, w, **kw)
            gy = torch.randn_like(out)
            v, dkw = derived(w, kw)
            x.requires_grad_(True)
            out = gemm_convt.conv_transpose2d(x, w, **kw)
            (gi,) = torch.autograd.grad(out, x, gy, retain_graph=True)
            gemm_convt.set_implicit_gemm(None)
            alt = gemm_convt.conv_transpose2d(gy, v, **dkw)
            ref = torch.nn.functional.conv_transpose2d(gy.double(), v.double(), **dkw)
            err = lambda t: ((t.double() - ref).abs().max() / ref.abs().max()).item()  # noqa: E731
            t_bwd_gi = median_ms(lambda: torch.autograd.grad(out, x, gy, retain_graph=True))
            w.requires_grad_(True)
            out2 = gemm_convt.conv_transpose2d(x, w, **kw)
            t_bwd_both = median_ms(lambda: torch.autograd.grad(out2, (x, w), gy, retain_graph=True))
            w.requires_grad_(False)
            t_auto = median_ms(lambda: gemm_convt.conv_transpose2d(gy, v, **dkw))
            gemm_convt.set_implicit_gemm(True)
            t_impl = median_ms(lambda: gemm_convt.conv_transpose2d(gy, v, **dkw))
            impl = gemm_convt.conv_transpose2d(gy, v, **dkw)
            gemm_convt.set_implicit_gemm(None)
            print("%-6s %s grad_input now %.2f ms (both grads %.2f) | derived fwd auto %.2f, implicit %.2f | "
                  "rel err now %.1e auto %.1e implicit %.1e" % (
                      name, "tf32" if tf32 else "ieee", t_bwd_gi, t_bwd_both, t_auto, t_impl, err(gi), err(alt),
                      err(impl)), flush=True)
            for k, t, c in kernel_times(lambda: torch.autograd.grad(out, x, gy, retain_graph=True), top=3):
                print("    now  %8.2f ms x%-3d %s" % (t / 1e3, c, k))
            del x, w, out, out2, gy, v, gi, alt, ref, impl
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main(sys.argv[1:] or ["kb57", "kb65", "kb69", "kb71", "kb78"])
