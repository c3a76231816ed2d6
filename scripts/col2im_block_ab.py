"""A/B of col2im's block items (include/gemm_convt/col2im_block.h) against single
output columns, one process, rounds alternating: the forward's CUDA-event median
with blocks on and off, and the col2im kernels' device time from the profiler
(concurrent with the other stream's GEMM, so an upper bound on each alone).
    python scripts/col2im_block_ab.py [--problems fcn_up,dcgan] [--dtypes tf32,float16] [--rounds 2]"""
import argparse

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors
from gemm_convt._native import _C

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script

DTYPES = {"tf32": (torch.float32, True), "ieee": (torch.float32, False),
          "float16": (torch.float16, False), "bfloat16": (torch.bfloat16, False)}


def col2im_us(fn):
    """Device time of the col2im kernels of one call: (name, total us, launches)."""
    return [(n.split("(")[0].split("<")[0].replace("void ", ""), t, c)
            for n, t, c in kernel_times(fn, top=12) if "col2im" in n]


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="fcn_up,dcgan,kb71")
    ap.add_argument("--dtypes", default="tf32,float16")
    ap.add_argument("--rounds", type=int, default=2)
    ap.add_argument("--iters", type=int, default=15)
    args = ap.parse_args()
    torch.backends.cudnn.allow_tf32 = True
    for name in args.problems.split(","):
        p = PROBLEMS[name]
        kw = call_kwargs(p)
        for dname in args.dtypes.split(","):
            dtype, tf32 = DTYPES[dname]
            gemm_convt.set_allow_tf32(tf32)
            xs, w, b = make_tensors(p, dtype, "cuda")
            x = xs[0]

            def fwd():
                with torch.no_grad():
                    return gemm_convt.conv_transpose2d(x, w, b, **kw)

            outs = {}
            for rnd in range(args.rounds):
                for blocks in (True, False):
                    _C._set_col2im_blocks(blocks)
                    ms = median_ms(fwd, iters=args.iters)
                    parts = col2im_us(fwd) if rnd == 0 else []
                    outs[blocks] = fwd()
                    print("%-8s %-8s blocks=%d round %d: %.3f ms  %s" % (
                        name, dname, blocks, rnd, ms,
                        "  ".join("%s %dx %.0f us (%.1f each)" % (n, c, t, t / c) for n, t, c in parts)),
                        flush=True)
            print("%-8s %-8s same bits: %s" % (name, dname, torch.equal(outs[True], outs[False])), flush=True)
    _C._set_col2im_blocks(True)


if __name__ == "__main__":
    main()
