"""Probe: grad_weight contracted in place (cuda/grad_weight_implicit.cu, forced by
set_implicit_gemm(True) at the forward) against the backward's rule (set_implicit_gemm(None)),
weight gradient alone, per policy. Until f8a5f09 the rule was the columns route (im2col +
cuBLAS or the thin kernel); since then it takes the kernel itself for float32 with 17-128
input channels per group, and there the two columns agree.
    PROBE_POLICIES=ieee,tf32 python scripts/grad_weight_probe.py [problem ...]
"""
import os
import sys

import torch

import gemm_convt
from cuda_timing import kernel_times, median_ms, problem_tensors


def main(names):
    for policy in os.environ.get("PROBE_POLICIES", "ieee,tf32,bfloat16").split(","):
        gemm_convt.set_allow_tf32(policy == "tf32")
        for name in names:
            x, w, _, kw = problem_tensors(name)
            if policy == "bfloat16":
                x, w = x.bfloat16(), w.bfloat16()
            w.requires_grad_(True)
            row = []
            grads = {}
            for mode in (None, True):
                gemm_convt.set_implicit_gemm(mode)
                out = gemm_convt.conv_transpose2d(x, w, **kw)
                if mode is None:
                    gy = torch.randn_like(out)
                (grads[mode],) = torch.autograd.grad(out, w, gy, retain_graph=True)
                row.append(median_ms(lambda: torch.autograd.grad(out, w, gy, retain_graph=True)))
                if mode:
                    top = kernel_times(lambda: torch.autograd.grad(out, w, gy, retain_graph=True), top=3)
                del out
            gemm_convt.set_implicit_gemm(None)
            a, b = grads[None].double(), grads[True].double()
            print("%-7s %-8s grad_weight by rule %7.2f ms | implicit %7.2f ms (x%.2f) | rel diff %.1e" % (
                name, policy, row[0], row[1], row[0] / row[1], ((a - b).norm() / a.norm()).item()), flush=True)
            for k, t, c in top:
                print("    %8.2f ms x%-3d %s" % (t / 1e3, c, k))
            del x, w, gy, grads, a, b
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main(sys.argv[1:] or ["kb57", "kb65", "kb69", "kb71", "kb75", "kb78", "kb81", "unet_up", "dcgan", "fcn_up"])
