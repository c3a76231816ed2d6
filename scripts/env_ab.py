"""A/B of an environment switch the library reads per call (GEMM_CONVT_*), in one process:
the suite's problems timed with each value in turn, alternating over rounds, each run's
median op time, and whether every value's output is bitwise the first's. Unset = "-".
--env workspace: the values are workspace caps in MiB (set_workspace_limit), not an
environment variable's.

    python scripts/env_ab.py --env GEMM_CONVT_WGMMA_URGENT_PACKS [--values -,1]
        [--problems fcn_up,kb69,kb65] [--dtypes fp32,tf32] [--rounds 3]
"""
import argparse
import os

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script


def set_env(name, value):
    if name == "workspace":
        gemm_convt.set_workspace_limit((64 if value == "-" else int(value)) << 20)
    elif value == "-":
        os.environ.pop(name, None)
    else:
        os.environ[name] = value


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--env", required=True)
    ap.add_argument("--values", default="-,1")
    ap.add_argument("--problems", default="fcn_up,kb69,kb65")
    ap.add_argument("--dtypes", default="fp32,tf32")
    ap.add_argument("--rounds", type=int, default=3)
    args = ap.parse_args()
    values = args.values.split(",")
    for name in args.problems.split(","):
        p = PROBLEMS[name]
        xs, w, b = make_tensors(p, torch.float32, "cuda")
        x, kw = xs[0], call_kwargs(p)
        for dtype in args.dtypes.split(","):
            gemm_convt.set_allow_tf32(dtype == "tf32")
            call = lambda: gemm_convt.conv_transpose2d(x, w, b, **kw)  # noqa: E731
            times, outs = {v: [] for v in values}, {}
            for _ in range(args.rounds):
                for v in values:
                    set_env(args.env, v)
                    times[v].append(median_ms(call, iters=20))
                    outs.setdefault(v, call())
            same = all(torch.equal(outs[values[0]], outs[v]) for v in values)
            print("%-7s %-4s " % (name, dtype) + "  ".join(
                "%s=%s %s ms" % (args.env.replace("GEMM_CONVT_", ""), v, "/".join("%.3f" % t for t in times[v]))
                for v in values) + ("  bitwise equal" if same else "  OUTPUTS DIFFER"), flush=True)
            set_env(args.env, "-")
    gemm_convt.set_allow_tf32(None)


if __name__ == "__main__":
    main()
