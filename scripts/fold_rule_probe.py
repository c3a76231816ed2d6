"""Width folding against plain columns, in one process (issue 6 item 2's rule).

For each shape and dtype: the columns path's forward with set_width_folding(False)
and (True), alternating `--rounds` times (CUDA-event medians), and the kernel sums of
one call of each (GEMM, col2im, unfold), so that a cost model can be fitted to the
parts and checked on the whole. The other paths (implicit GEMM, direct gather,
disjoint taps) are switched off: the fold only ever competes with plain columns.
The last columns say which path the default dispatch takes (folded or plain
columns, or another path) and its time.

    python scripts/fold_rule_probe.py [--dtypes tf32,float16,bfloat16] [--rounds 3] [--profile]
"""
import argparse

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors, problem

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script

SHAPES = [
    PROBLEMS["fcn_up"],
    PROBLEMS["dcgan"],
    PROBLEMS["kb81"],
    problem("fcn_c64", 16, 64, 64, 4, (64, 64), 2, 1),
    problem("wide_c512", 8, 512, 512, 4, (32, 32), 2, 1),
    problem("k3s2", 16, 128, 64, 3, (64, 64), 2, 1, output_padding=1),
    problem("k3s1", 8, 64, 64, 3, (128, 128), 1, 1),
    problem("k8s4", 8, 64, 32, 8, (32, 32), 4, 2),
    problem("k3x7s1", 4, 32, 32, (3, 7), (128, 128), 1, (1, 3)),
]
# Shapes the rule was not fitted on (session 20's second call checks it on them).
HELD_OUT = [
    problem("k4s2_c128", 32, 128, 64, 4, (32, 32), 2, 1),
    problem("k5s1_c48", 8, 48, 48, 5, (96, 96), 1, 2),
    problem("k6s2_c96", 8, 96, 96, 6, (48, 48), 2, 2),
    problem("k4s2_c192", 8, 192, 192, 4, (64, 64), 2, 1),
]


# TF32 sweep: 4x4 stride 2 with Cin = Cout from 64 to 512 at two sizes.
SWEEP = [problem("k4s2_%d_%d" % (c, hw), n, c, c, 4, (hw, hw), 2, 1)
         for c in (64, 128, 192, 256, 384, 512) for n, hw in ((16, 32), (8, 64))]


def kernel_parts(fn):
    """Device microseconds of one call by role (GEMM, col2im, unfold, the rest),
    and the name of its costliest GEMM kernel."""
    parts, gemm_name, gemm_us = dict(gemm=0.0, col2im=0.0, unfold=0.0, other=0.0), "", 0.0
    for name, us, _ in kernel_times(fn, top=40):
        low = name.lower()
        role = ("col2im" if "col2im" in low else "unfold" if "unfold" in low or "fold_weight" in low
                else "gemm" if any(s in low for s in ("gemm", "nvjet", "xmma", "cutlass", "sm90", "sm80"))
                else "other")
        parts[role] += us
        if role == "gemm" and us > gemm_us:
            gemm_name, gemm_us = name[:40], us
    return parts, gemm_name


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--dtypes", default="tf32,float16,bfloat16")
    ap.add_argument("--rounds", type=int, default=3)
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--held-out", action="store_true", help="also the shapes the rule was not fitted on")
    ap.add_argument("--channels-last", action="store_true", help="channels_last inputs")
    ap.add_argument("--sweep", action="store_true", help="only the 4x4 stride-2 channel sweep")
    ap.add_argument("--only", help="comma-separated shape names, from any of the lists")
    args = ap.parse_args()
    shapes = SWEEP if args.sweep else SHAPES + (HELD_OUT if args.held_out else [])
    if args.only:
        shapes = [s for s in SHAPES + HELD_OUT + SWEEP if s.name in args.only.split(",")]
    for shape in shapes:
        for key in args.dtypes.split(","):
            dtype = {"float16": torch.float16, "bfloat16": torch.bfloat16}.get(key, torch.float32)
            xs, w, b = make_tensors(shape, dtype, "cuda", 2)
            if args.channels_last:
                xs = [x.contiguous(memory_format=torch.channels_last) for x in xs]
            kw = call_kwargs(shape)
            gemm_convt.set_allow_tf32(key == "tf32")
            call = lambda: gemm_convt.conv_transpose2d(xs[0], w, b, **kw)  # noqa: E731
            with torch.no_grad():
                for setter in (gemm_convt.set_implicit_gemm, gemm_convt.set_direct_gather,
                               gemm_convt.set_disjoint_taps, gemm_convt.set_width_folding):
                    setter(None)
                # Timed before any profiling: a median taken right after the
                # profiler ran was up to 3x slow (session 20's second call).
                default_ms = median_ms(call, iters=20, warmup=3)
                auto, _ = kernel_parts(call)
                default_path = ("other" if auto["gemm"] == 0.0 or auto["col2im"] == 0.0
                                else "folded" if auto["unfold"] else "plain")
                for setter in (gemm_convt.set_implicit_gemm, gemm_convt.set_direct_gather,
                               gemm_convt.set_disjoint_taps):
                    setter(False)
                times = {False: [], True: []}
                for _ in range(args.rounds):
                    for fold in (False, True):
                        gemm_convt.set_width_folding(fold)
                        times[fold].append(median_ms(call, iters=20, warmup=3))
                line = "%-9s %-8s plain %s  fold %s  ratio %.2f  default:%s %.3f" % (
                    shape.name, key, " ".join("%.3f" % t for t in times[False]),
                    " ".join("%.3f" % t for t in times[True]),
                    min(times[False]) / min(times[True]), default_path, default_ms)
                print(line, flush=True)
                if args.profile:
                    for fold in (False, True):
                        gemm_convt.set_width_folding(fold)
                        parts, gemm_name = kernel_parts(call)
                        print("    %-5s %s  (%s)" % ("fold" if fold else "plain",
                                                     "  ".join("%s %.0f" % kv for kv in parts.items()),
                                                     gemm_name), flush=True)
            del xs, w, b
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
