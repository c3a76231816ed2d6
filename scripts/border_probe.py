"""Probe: non-finite weights at taps that miss the input (padding), on every CUDA path and
precision. Prints, per (path, precision), NaN/+inf/-inf counts against torch's float64
reference and whether the patterns match. The CPU test test_non_finite_weight_at_border_taps'
case, plus a stride-1 3x3 case for the implicit GEMM."""
import torch
import torch.nn.functional as F

import gemm_convt

CASES = {  # name: (n, cin, cout, kernel, size, geometry, planted (ci, co, i, j) -> value)
    "4x4s2p1": (2, 6, 4, 4, (5, 9), dict(stride=2, padding=1),
                {(1, 2, 0, 0): float("nan"), (4, 1, 3, 3): float("inf"), (2, 3, 0, 3): float("-inf")}),
    "3x3s1p1": (2, 32, 64, 3, (6, 140), dict(padding=1),
                {(9, 3, 2, 2): float("nan"), (5, 7, 0, 0): float("inf")}),
}
PATHS = {"plain": (False, False, False), "folded": (True, False, False),
         "implicit": (False, True, False), "gather": (False, False, True)}

torch.manual_seed(0)
for name, (n, cin, cout, k, size, geo, planted) in CASES.items():
    x = torch.randn(n, cin, *size, dtype=torch.float64)
    w = torch.randn(cin, cout, k, k, dtype=torch.float64)
    b = torch.randn(cout, dtype=torch.float64)
    for idx, v in planted.items():
        w[idx] = v
    ref = F.conv_transpose2d(x, w, b, **geo)
    for prec in ("ieee", "tf32", "float16"):
        dtype = torch.float16 if prec == "float16" else torch.float32
        gemm_convt.set_allow_tf32(prec == "tf32")
        for path, (fold, implicit, gather) in PATHS.items():
            gemm_convt.set_width_folding(fold)
            gemm_convt.set_implicit_gemm(implicit)
            gemm_convt.set_direct_gather(gather)
            try:
                out = gemm_convt.conv_transpose2d(x.to("cuda", dtype), w.to("cuda", dtype),
                                                  b.to("cuda", dtype), **geo).double().cpu()
            except Exception as e:  # noqa: BLE001 - a probe reports whatever happens
                print(f"{name:8s} {prec:7s} {path:8s} error: {e}".splitlines()[0])
                continue
            same = all(torch.equal(f(out), f(ref)) for f in (torch.isnan, torch.isposinf, torch.isneginf))
            print(f"{name:8s} {prec:7s} {path:8s} nan {int(out.isnan().sum()):4d}/{int(ref.isnan().sum()):4d} "
                  f"+inf {int(out.isposinf().sum()):4d}/{int(ref.isposinf().sum()):4d} "
                  f"-inf {int(out.isneginf().sum()):4d}/{int(ref.isneginf().sum()):4d} {'ok' if same else 'MISMATCH'}")
