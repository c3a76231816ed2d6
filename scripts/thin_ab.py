"""A/B of the thin backward GEMM (cuda/thin_gemm.cu) against cuBLAS in one process:
GEMM_CONVT_THIN_GEMM is read per call, so each problem's training step (forward +
backward of the layer) is timed with it off ("0"), by the library's rule (unset) and
on wherever it applies ("1"), alternating; plus the gradients' relative error against
float64 and the top kernels of the backward per mode.

    python scripts/thin_ab.py [--problems kb69,kb75,kb75/g2] [--dtypes ieee,tf32] [--profile]

NAME/gG is the suite's problem NAME with G groups (kb75/g2: in_per_group 16).
"""
import argparse
import os

import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script

MODES = {"off": "0", "rule": None, "on": "1"}


def set_mode(mode):
    value = MODES[mode]
    if value is None:
        os.environ.pop("GEMM_CONVT_THIN_GEMM", None)
    else:
        os.environ["GEMM_CONVT_THIN_GEMM"] = value


def grads(x, w, b, kw, grad, dtype=None):
    x, w = x.detach().requires_grad_(), w.detach().requires_grad_()
    b = None if b is None else b.detach().requires_grad_()
    conv = F.conv_transpose2d if dtype == torch.float64 else gemm_convt.conv_transpose2d
    conv(x, w, b, **kw).backward(grad)
    return x.grad, w.grad


def lookup(name):
    base, _, groups = name.partition("/g")
    p = PROBLEMS[base]
    return p._replace(name=name, groups=int(groups)) if groups else p


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", default="kb75,kb71,kb78,kb81,kb69,kb65,kb57")
    ap.add_argument("--dtypes", default="ieee,tf32")
    ap.add_argument("--modes", default="off,rule,on")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--no-error", action="store_true", help="skip the float64 comparison")
    args = ap.parse_args()
    modes = args.modes.split(",")
    for name in args.problems.split(","):
        prob = lookup(name)
        xs, w, b = make_tensors(prob, torch.float32, "cuda", 1)
        x, kw = xs[0], call_kwargs(prob)
        grad = torch.randn_like(F.conv_transpose2d(x, w, b, **kw))
        ref = None
        if not args.no_error:
            ref = grads(x.double(), w.double(), None if b is None else b.double(), kw, grad.double(),
                        torch.float64)
        for key in args.dtypes.split(","):
            gemm_convt.set_allow_tf32(key == "tf32")
            xg, wg = x.detach().requires_grad_(), w.detach().requires_grad_()
            bg = None if b is None else b.detach().requires_grad_()

            def step():
                gemm_convt.conv_transpose2d(xg, wg, bg, **kw).backward(grad)

            times = {m: [] for m in modes}
            for _ in range(2):  # alternate the modes twice
                for m in modes:
                    set_mode(m)
                    times[m].append(median_ms(step, iters=10, warmup=2))
            line = "%-8s %-5s" % (name, key)
            for m in modes:
                line += "  %s %s ms" % (m, "/".join("%.3f" % t for t in times[m]))
            if ref is not None:
                for m in modes:
                    set_mode(m)
                    gi, gw = grads(x, w, b, kw, grad)
                    line += "  | %s err gi %.1e gw %.1e" % (
                        m, ((gi.double() - ref[0]).norm() / ref[0].norm()).item(),
                        ((gw.double() - ref[1]).norm() / ref[1].norm()).item())
            print(line, flush=True)
            if args.profile:
                for m in modes:
                    set_mode(m)
                    for k, t, n in kernel_times(step, 5):
                        print("    %-4s %9.1f us %4dx  %s" % (m, t, n, k))
        del xs, w, b, x, grad, ref
        torch.cuda.empty_cache()
    set_mode("rule")
    gemm_convt.set_allow_tf32(None)


if __name__ == "__main__":
    main()
