"""Device memory the library holds after its calls (cuBLAS workspaces of the side streams and
of torch, graphs' pools), and the GEMM kernels one call runs, for a suite problem.
    usage: python side_workspace_probe.py PROBLEM tf32|ieee|float16 [train]
"train": forward + backward of the layer. Run it under two GEMM_CONVT_SIDE_WORKSPACE_BYTES
settings to compare (that knob exists in 7439531's tree; session 25 reverted it). In "train",
the forward that shapes the gradient runs before the baseline is read, so "held" counts only
what later calls add there."""
import os
import sys

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

name, key = sys.argv[1], sys.argv[2]
train = len(sys.argv) > 3 and sys.argv[3] == "train"
dtype = torch.float16 if key == "float16" else torch.float32
gemm_convt.set_allow_tf32(key == "tf32")
xs, w, b = make_tensors(PROBLEMS[name], dtype, "cuda", 1)
kw = call_kwargs(PROBLEMS[name])
x = xs[0].requires_grad_(train)
w.requires_grad_(train)
grad = torch.randn_like(gemm_convt.conv_transpose2d(x, w, b, **kw)) if train else None


def call():
    out = gemm_convt.conv_transpose2d(x, w, b, **kw)
    if train:
        out.backward(grad)
        x.grad = w.grad = None


torch.cuda.synchronize()
before = torch.cuda.memory_allocated()
with torch.set_grad_enabled(train):
    for _ in range(3):
        call()
    torch.cuda.synchronize()
    held = torch.cuda.memory_allocated() - before
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        call()
        torch.cuda.synchronize()
gemms = sorted({e.name[:70] for e in prof.events()
                if e.device_type == torch.autograd.DeviceType.CUDA and "gemm_convt" not in e.name
                and ("gemm" in e.name.lower() or "nvjet" in e.name or "cutlass" in e.name)})
print("%-8s %-7s %s workspace=%s held %.0f MiB; GEMM kernels: %s"
      % (name, key, "train" if train else "forward",
         os.environ.get("GEMM_CONVT_SIDE_WORKSPACE_BYTES", "default"), held / 2**20,
         " | ".join(gemms)))
