"""Probe: what the border redo (cuda/border_redo.cu) costs a call whose weight is finite:
the device time of its two launches (the weight's flag, the redo that returns at once)
against the call's kernel total, from the profiler, per suite problem and precision.

    python scripts/border_redo_cost.py [--problems dcgan,fcn_up,kb65] [--dtypes tf32,fp32,float16]
"""
import argparse

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="kb57,kb65,kb69,kb71,kb75,kb78,kb81,unet_up,dcgan,fcn_up")
    ap.add_argument("--dtypes", default="tf32,fp32,float16")
    args = ap.parse_args()
    for name in args.problems.split(","):
        p = PROBLEMS[name]
        for key in args.dtypes.split(","):
            dtype = torch.float16 if key == "float16" else torch.float32
            gemm_convt.set_allow_tf32(key == "tf32")
            xs, w, b = make_tensors(p, dtype, "cuda", 1)
            kw = call_kwargs(p)
            call = lambda: gemm_convt.conv_transpose2d(xs[0], w, b, **kw)  # noqa: E731
            with torch.no_grad():
                ms = median_ms(call, warmup=3, iters=20)
                kernels = kernel_times(call, top=100)
            total = sum(t for _, t, _ in kernels)
            redo = sum(t for k, t, _ in kernels if "border_redo" in k or "flag_non_finite" in k)
            print(f"{name:8s} {key:7s} call {ms:7.3f} ms  kernels {total / 1e3:7.3f} ms  "
                  f"flag + redo {redo:6.1f} us ({100 * redo / max(total, 1e-9):.1f}%)", flush=True)


if __name__ == "__main__":
    main()
