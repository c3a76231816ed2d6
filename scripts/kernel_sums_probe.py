"""Per-kernel GPU time of one call against the workspace cap: which kernels grow when the
cap makes more (smaller) chunks.

    python scripts/kernel_sums_probe.py [--problems fcn_up] [--limits 64,128] [--train]
"""
import argparse

import torch

import gemm_convt

from cuda_timing import host_and_wall_us, kernel_times, problem_tensors  # scripts/ on sys.path


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="fcn_up")
    ap.add_argument("--limits", default="64,128", help="workspace caps in MiB")
    ap.add_argument("--train", action="store_true")
    args = ap.parse_args()
    gemm_convt.set_allow_tf32(True)
    torch.backends.cudnn.allow_tf32 = True
    for name in args.problems.split(","):
        x, w, b, kw = problem_tensors(name, args.train)
        grad = torch.randn_like(gemm_convt.conv_transpose2d(x, w, b, **kw)) if args.train else None

        def call():
            with torch.set_grad_enabled(args.train):
                out = gemm_convt.conv_transpose2d(x, w, b, **kw)
                if args.train:
                    out.backward(grad)

        for mib in (int(v) for v in args.limits.split(",")):
            gemm_convt.set_workspace_limit(mib << 20)
            host, wall = host_and_wall_us(call)
            rows = kernel_times(call, top=12)
            print("== %s cap %d MiB: host %.1f us, wall %.1f us, kernel sum %.1f us" % (
                name, mib, host, wall, sum(t for _, t, _ in rows)))
            for k, t, n in rows:
                print("    %8.1f us  x%-3d %6.1f each  %s" % (t, n, t / n, k))
        gemm_convt.set_workspace_limit(None)


if __name__ == "__main__":
    main()
