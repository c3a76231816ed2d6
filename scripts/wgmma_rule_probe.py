"""Where the implicit GEMM's wgmma kernel (packed input, sm_90a) beats its mma.sync kernel,
by multiply-adds per packed byte (implicit_wgmma.cpp's kWgmmaMinMacsPerByte rule): a sweep of
stride-1 layers, each timed three ways in one process: the default rule, the implicit GEMM
forced onto wgmma, and forced onto mma.sync (GEMM_CONVT_WGMMA=0, read per call).

    python scripts/wgmma_rule_probe.py [--keys tf32,split] [--size 256x512] [--batch 8]
"""
import argparse
import os

import torch

import gemm_convt
from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script

SHAPES = [  # (output channels, kernel)
    (48, (2, 2)), (64, (2, 2)), (48, (3, 3)), (64, (2, 3)), (96, (2, 2)), (64, (3, 3)),
    (96, (3, 3)), (64, (3, 5)), (128, (3, 3)),
]


def timed(fn, wgmma):
    if wgmma:
        os.environ.pop("GEMM_CONVT_WGMMA", None)
    else:
        os.environ["GEMM_CONVT_WGMMA"] = "0"
    try:
        return median_ms(fn)
    finally:
        os.environ.pop("GEMM_CONVT_WGMMA", None)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--keys", default="tf32,split")
    ap.add_argument("--size", default="256x512")
    ap.add_argument("--batch", type=int, default=8)
    ap.add_argument("--in-channels", type=int, default=64)
    args = ap.parse_args()
    h, w = (int(v) for v in args.size.split("x"))
    for key in args.keys.split(","):
        gemm_convt.set_allow_tf32(key == "tf32")
        gemm_convt.set_fp32_split(key == "split" or None)
        for cout, kernel in SHAPES:
            x = torch.randn(args.batch, args.in_channels, h, w, device="cuda")
            weight = torch.randn(args.in_channels, cout, *kernel, device="cuda")
            call = lambda: gemm_convt.conv_transpose2d(x, weight)  # noqa: E731
            parts = 1 if key == "tf32" else 2
            macs_per_byte = cout * kernel[0] * kernel[1] * (3 if parts == 2 else 1) / (4.0 * parts)
            gemm_convt.set_implicit_gemm(None)
            rule = timed(call, True)
            gemm_convt.set_implicit_gemm(True)
            on_wgmma, on_mma_sync = timed(call, True), timed(call, False)
            gemm_convt.set_implicit_gemm(None)
            print("%-5s cout %3d k %dx%d  %5.0f macs/byte  rule %7.3f  wgmma %7.3f  mma.sync %7.3f ms  "
                  "wgmma/mma.sync %.2f" % (key, cout, kernel[0], kernel[1], macs_per_byte, rule, on_wgmma,
                                          on_mma_sync, on_wgmma / on_mma_sync), flush=True)
            del x, weight
            torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
