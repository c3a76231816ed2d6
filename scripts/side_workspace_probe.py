"""Device memory the library holds after its calls (cuBLAS workspaces of the side streams and
of torch, graphs' pools), and the GEMM kernels one call runs, per suite problem and mode.
    usage: python side_workspace_probe.py PROBLEM[,PROBLEM...] KEY[,KEY...]
KEY: tf32|ieee|float16, with ":train" for forward + backward of the layer. Run it under several
GEMM_CONVT_SIDE_WORKSPACE_BYTES settings to compare (that knob exists in 7439531's tree; session
25 reverted it). "held" is read after the first case's calls only (later cases find the
workspaces made); in train mode the forward that shapes the gradient runs before the baseline."""
import os
import sys

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors


def probe(name, key):
    mode = "train" if key.endswith(":train") else "forward"
    key = key.split(":")[0]
    train = mode == "train"
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
    print("%-8s %-7s %-7s workspace=%s held %.0f MiB; GEMM kernels: %s"
          % (name, key, mode, os.environ.get("GEMM_CONVT_SIDE_WORKSPACE_BYTES", "default"),
             held / 2**20, " | ".join(gemms)), flush=True)


if __name__ == "__main__":
    for problem in sys.argv[1].split(","):
        for k in sys.argv[2].split(","):
            try:
                probe(problem, k)
            except Exception as e:  # noqa: BLE001 - report and go on to the next case
                print("%-8s %-7s failed: %s" % (problem, k, str(e).splitlines()[0][:120]), flush=True)
            torch.cuda.empty_cache()
