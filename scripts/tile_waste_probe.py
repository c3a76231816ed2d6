"""Probe (session 30): does the implicit wgmma kernel's time follow its position tiles
or its output positions? kb65- and kb69-like calls at an input width whose output row is
a whole number of 128-position tiles, and at the suite's width (kb65: 518 = 4 tiles + 6
positions, kb69: 260 = 2 tiles + 4), float32 by the default rule (split products).

    python scripts/tile_waste_probe.py
"""
import torch

import gemm_convt
from gemm_convt._bench.problems import call_kwargs, make_tensors, output_size, problem

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script

CASES = [
    ("kb65", dict(batch=8, in_channels=64, out_channels=64, kernel_size=(3, 7), bias=False), (512, 506), (512, 512)),
    ("kb69", dict(batch=64, in_channels=64, out_channels=128, kernel_size=(3, 5), bias=False), (128, 252), (128, 256)),
]


def main():
    gemm_convt.set_allow_tf32(False)
    for name, args, *sizes in CASES:
        per_position = []
        for size in sizes:
            p = problem(name, input_size=size, **args)
            xs, w, b = make_tensors(p, torch.float32, "cuda", 1)
            kw = call_kwargs(p)
            with torch.no_grad():
                ms = median_ms(lambda: gemm_convt.conv_transpose2d(xs[0], w, b, **kw))
                kernel = sum(t for k, t, n in kernel_times(lambda: gemm_convt.conv_transpose2d(xs[0], w, b, **kw), 8)
                             if "implicit_wgmma_kernel" in k)
            oh, ow = output_size(p)
            per_position.append(kernel / (oh * ow))
            print("%s input %s output %dx%d: op %.3f ms, wgmma kernel %.1f us, %.2f ps a position"
                  % (name, size, oh, ow, ms, kernel, 1e6 * kernel / (p.batch * oh * ow)), flush=True)
            del xs, w, b
        print("%s kernel time a position, suite width / whole tiles: %.3f" % (name, per_position[1] / per_position[0]))


if __name__ == "__main__":
    main()
