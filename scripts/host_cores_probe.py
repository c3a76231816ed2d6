"""Host pace of one process: a torch add_ (a yardstick of the host's speed) and dcgan's TF32
forward and training step, ours and cuDNN's, as median host time (until the call returns)
and wall time (until the GPU is done), each call starting on an idle GPU. Run it pinned to
different cores (taskset) to see whether the host's pace depends on where the process runs.

    taskset -c CORE python scripts/host_cores_probe.py
"""
import os

import torch
import torch.nn.functional as F

import gemm_convt
from cuda_timing import host_and_wall_us, problem_tensors  # scripts/ is on sys.path as a script


def main():
    torch.backends.cudnn.allow_tf32 = True
    gemm_convt.set_allow_tf32(True)
    core = sorted(os.sched_getaffinity(0))
    a = torch.randn(1024, device="cuda")
    line = ["cores %s" % (",".join(map(str, core)) if len(core) < 4 else "%d-%d" % (core[0], core[-1])),
            "add_ host/wall %.1f/%.1f us" % host_and_wall_us(lambda: a.add_(1.0))]
    x, w, b, kw = problem_tensors("dcgan", requires_grad=True)
    grad = torch.randn_like(F.conv_transpose2d(x.detach(), w.detach(), b.detach(), **kw))
    for name, conv in (("ours", gemm_convt.conv_transpose2d), ("cuDNN", F.conv_transpose2d)):
        with torch.no_grad():
            fwd = host_and_wall_us(lambda: conv(x, w, b, **kw))
        step = host_and_wall_us(lambda: conv(x, w, b, **kw).backward(grad))
        line.append("%s fwd %.0f/%.0f train %.0f/%.0f us" % ((name,) + fwd + step))
    print(" | ".join(line), flush=True)


if __name__ == "__main__":
    main()
