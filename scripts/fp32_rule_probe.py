"""Where each float32-accurate path wins on strided upsampling layers (set_fp32_split's default
rule and the implicit GEMM's cost model were fitted on the H100; session 33 saw fcn_up's default
take split columns at 2.16 ms where IEEE ran 1.91 and the wgmma phases 1.93 on an H200). Each
layer is timed in one process: the default rule, split columns (set_fp32_split(True)), IEEE
columns (False) - both with the implicit GEMM off, the gather and disjoint-taps rules left as
they are - and the implicit GEMM forced (the wgmma phases where they apply, else the mma.sync
kernel), with cuDNN strict beside them. TF32 off throughout (the library's default). Run in
session 34 (NOTES.md): the default's split lost 1.7x on the 512 -> 512 16x16 layer, where the
split-weight rule no longer splits. Each layer also lists the kernels the default and the
forced implicit GEMM ran. --tf32: the same layers under TF32 (the default rule, the columns
with the implicit GEMM off, the implicit GEMM forced; cuDNN with TF32 beside them), the data
for a TF32 form of the phases' model (session 41).

    python scripts/fp32_rule_probe.py [--quick] [--tf32] [--layer I ...]
"""
import argparse

import torch
import torch.nn.functional as F

import gemm_convt
from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script

LAYERS = [  # (batch, in channels, out channels, kernel, stride, padding, input size)
    (16, 256, 256, 4, 2, 1, 64),    # fcn_up
    (128, 512, 256, 4, 2, 1, 8),    # dcgan
    (16, 64, 64, 4, 2, 1, 128),
    (16, 128, 128, 4, 2, 1, 64),
    (16, 256, 128, 4, 2, 1, 32),
    (16, 128, 64, 4, 2, 1, 128),
    (16, 512, 512, 4, 2, 1, 16),
    (16, 128, 128, 3, 2, 1, 64),
    (16, 256, 256, 3, 2, 1, 32),
    (16, 64, 64, 3, 2, 1, 128),
]

# (name, set_fp32_split, set_implicit_gemm)
PATHS = [("default", None, None), ("split", True, False), ("ieee", False, False), ("implicit", None, True)]
TF32_PATHS = [("default", None, None), ("columns", None, False), ("implicit", None, True)]


def kernel_names(fn):
    """The kernels one call launches, short names, in order of first launch."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    names = []
    for event in prof.events():
        if event.device_type != torch.autograd.DeviceType.CUDA:
            continue  # runtime calls on the host
        name = event.name.replace("(anonymous namespace)::", "").replace("void ", "")
        name = name.split("(")[0].split("<")[0].replace("gemm_convt::", "")[:40]
        if name not in names:
            names.append(name)
    return names


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--quick", action="store_true", help="the first four layers only")
    ap.add_argument("--layer", type=int, action="append", help="only LAYERS[i] (repeatable)")
    ap.add_argument("--tf32", action="store_true", help="TF32 allowed (ours and cuDNN's)")
    args = ap.parse_args()
    gemm_convt.set_allow_tf32(args.tf32)
    torch.backends.cudnn.allow_tf32 = args.tf32
    layers = [LAYERS[i] for i in args.layer] if args.layer else LAYERS[:4] if args.quick else LAYERS
    for n, cin, cout, k, s, p, size in layers:
        x = torch.randn(n, cin, size, size, device="cuda")
        w = torch.randn(cin, cout, k, k, device="cuda")
        b = torch.randn(cout, device="cuda")
        kw = dict(stride=s, padding=p)
        times, paths = {}, {}
        for name, split, implicit in TF32_PATHS if args.tf32 else PATHS:
            gemm_convt.set_fp32_split(split)
            gemm_convt.set_implicit_gemm(implicit)
            times[name] = median_ms(lambda: gemm_convt.conv_transpose2d(x, w, b, **kw))
            if name in ("default", "implicit"):  # which path ran: the data a rule re-fit needs
                paths[name] = " ".join(kernel_names(lambda: gemm_convt.conv_transpose2d(x, w, b, **kw)))
        gemm_convt.set_fp32_split(None)
        gemm_convt.set_implicit_gemm(None)
        cudnn = median_ms(lambda: F.conv_transpose2d(x, w, b, **kw))
        best = min(times, key=times.get)
        print("N%-3d %3d->%-3d k%d s%d %3dx%-3d  " % (n, cin, cout, k, s, size, size) +
              "  ".join("%s %.3f" % item for item in times.items()) +
              "  cudnn-%s %.3f ms  best %s (default / best %.2f)" % ("tf32" if args.tf32 else "strict", cudnn, best, times["default"] / times[best]),
              flush=True)
        for name, kernels in paths.items():
            print("    %-8s %s" % (name, kernels), flush=True)
        del x, w, b
        torch.cuda.empty_cache()


if __name__ == "__main__":
    main()
