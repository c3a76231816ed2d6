"""Probe: gradients of a call whose weight holds NaN/+inf/-inf at corner taps (taps that miss
the input at a border), against torch's float64 autograd, per path and device. torch's
grad_input is a zero-padded correlation, so 0 x inf gives NaN there: the forward's redo
(cuda/border_redo.cu) is not applied to the backward, which keeps torch's pattern.
    python scripts/border_backward_probe.py [cpu|cuda]"""
import sys

import torch
import torch.nn.functional as F

import gemm_convt

device = sys.argv[1] if len(sys.argv) > 1 else ("cuda" if torch.cuda.is_available() else "cpu")
torch.manual_seed(0)
for geo, k, cin, cout, size in ((dict(stride=2, padding=1), 4, 6, 4, (5, 9)), (dict(padding=1), 3, 32, 16, (6, 140))):
    x = torch.randn(2, cin, *size, dtype=torch.float64)
    w = torch.randn(cin, cout, k, k, dtype=torch.float64)
    b = torch.randn(cout, dtype=torch.float64)
    w[1, 2, 0, 0], w[4, 1, k - 1, k - 1], w[2, 3, 0, k - 1] = float("nan"), float("inf"), float("-inf")
    g = torch.randn(F.conv_transpose2d(x, w, b, **geo).shape, dtype=torch.float64)

    def grads(fn, dtype, dev):
        leaves = [t.detach().to(dev, dtype).clone().requires_grad_() for t in (x, w, b)]
        fn(*leaves, **geo).backward(g.to(dev, dtype))
        return [t.grad.double().cpu() for t in leaves]

    ref = grads(F.conv_transpose2d, torch.float64, "cpu")
    for dtype in (torch.float64, torch.float32):
        for path in ("plain", "folded", "implicit", "gather"):
            gemm_convt.set_width_folding(path == "folded")
            gemm_convt.set_implicit_gemm(path == "implicit")
            gemm_convt.set_direct_gather(path == "gather")
            ours = grads(gemm_convt.conv_transpose2d, dtype, device)
            for name, o, r in zip(("grad_input", "grad_weight", "grad_bias"), ours, ref):
                same = all(torch.equal(f(o), f(r)) for f in (torch.isnan, torch.isposinf, torch.isneginf))
                print(f"{device} k{k} {str(dtype)[6:]:8s} {path:8s} {name:11s} nan {int(o.isnan().sum()):4d}/"
                      f"{int(r.isnan().sum()):4d} {'ok' if same else 'MISMATCH'}")
