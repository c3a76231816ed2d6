"""Which CUDA kernels one gemm_convt call launches, per dtype and TF32 policy
(cuBLAS kernel names tell whether tensor cores run: e.g. 'tf32', 'f16', 'bf16'
in the name, versus 'sgemm'/'dgemm' SIMT kernels)."""
import torch
from torch.profiler import ProfilerActivity, profile

import gemm_convt

# (label, dtype, set_allow_tf32, set_fp32_split)
CASES = [("float32 split", torch.float32, None, True), ("float32 ieee", torch.float32, False, False),
         ("float32 tf32", torch.float32, True, True), ("float16", torch.float16, None, True),
         ("bfloat16", torch.bfloat16, None, True), ("float64", torch.float64, None, True)]


def main():
    x = torch.randn(8, 64, 64, 64, device="cuda")
    w = torch.randn(64, 32, 3, 3, device="cuda")
    for label, dtype, tf32, split in CASES:
        gemm_convt.set_allow_tf32(tf32)
        gemm_convt.set_fp32_split(split)
        xd, wd = x.to(dtype), w.to(dtype)
        with torch.no_grad():
            gemm_convt.conv_transpose2d(xd, wd, stride=2)
            torch.cuda.synchronize()
            with profile(activities=[ProfilerActivity.CUDA]) as prof:
                gemm_convt.conv_transpose2d(xd, wd, stride=2)
                torch.cuda.synchronize()
        names = sorted({e.name for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA})
        print("%-13s %s" % (label, " | ".join(n[:110] for n in names)))
    gemm_convt.set_allow_tf32(None)
    gemm_convt.set_fp32_split(True)


if __name__ == "__main__":
    main()
