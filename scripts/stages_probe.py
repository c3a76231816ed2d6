"""A/B of the wgmma implicit GEMM's shared-memory buffers (GEMM_CONVT_WGMMA_STAGES, read per
call: 2, the default, against more where they fit beside the same blocks an SM) in one
process, alternating, on the suite's problems that run the wgmma kernel: the op's median
time per setting and round, the kernel sums of one call, and whether the outputs are
bitwise equal (the buffers change when operands land, not the products or their order).

    python scripts/stages_probe.py [--problems fcn_up,kb69,kb65] [--dtypes fp32,tf32]
        [--stages 2,3,4] [--rounds 2]
"""
import argparse
import os

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--problems", default="fcn_up,kb69,kb65,kb57,kb78")
    ap.add_argument("--dtypes", default="fp32,tf32")
    ap.add_argument("--stages", default="2,3,4")
    ap.add_argument("--rounds", type=int, default=2)
    args = ap.parse_args()
    stages = args.stages.split(",")
    for name in args.problems.split(","):
        p = PROBLEMS[name]
        xs, w, b = make_tensors(p, torch.float32, "cuda")
        x = xs[0]
        kw = call_kwargs(p)
        for dtype in args.dtypes.split(","):
            gemm_convt.set_allow_tf32(dtype == "tf32")
            call = lambda: gemm_convt.conv_transpose2d(x, w, b, **kw)  # noqa: E731
            times = {s: [] for s in stages}
            outs = {}
            for _ in range(args.rounds):
                for s in stages:
                    os.environ["GEMM_CONVT_WGMMA_STAGES"] = s
                    times[s].append(median_ms(call, iters=20))
                    outs.setdefault(s, call())
            line = "%-7s %-4s " % (name, dtype) + "  ".join(
                "stages %s %s ms" % (s, "/".join("%.3f" % t for t in times[s])) for s in stages)
            same = all(torch.equal(outs[stages[0]], outs[s]) for s in stages)
            print(line + ("  bitwise equal" if same else "  OUTPUTS DIFFER"), flush=True)
            for s in stages:
                os.environ["GEMM_CONVT_WGMMA_STAGES"] = s
                top = kernel_times(call, top=3)
                print("    stages %s: " % s + "; ".join("%s %.0f us x%d" % (k[:38], t, n) for k, t, n in top))
            os.environ.pop("GEMM_CONVT_WGMMA_STAGES", None)
    gemm_convt.set_allow_tf32(None)


if __name__ == "__main__":
    main()
