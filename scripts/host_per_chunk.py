"""Host time of one call against its number of chunks: the workspace cap sets how many
chunks a call makes, so a line through (kernels, host time) splits the call's host time
into a fixed part and a part per chunk. Baselines in the same process: a torch view op,
a small torch kernel launch, and cuDNN's call.

    python scripts/host_per_chunk.py [--problems dcgan,fcn_up] [--limits 16,64,256,1024] [--backward]
"""
import argparse

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile

import gemm_convt
from gemm_convt._native import _C

from cuda_timing import host_and_wall_us, problem_tensors  # scripts/ is on sys.path when run as a script


def count_kernels(fn):
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    return sum(1 for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="dcgan,fcn_up")
    ap.add_argument("--limits", default="16,64,256,1024", help="workspace caps in MiB")
    ap.add_argument("--backward", action="store_true", help="time torch.autograd.grad of the layer instead")
    ap.add_argument("--graphs", default="on", help="set_gemm_graphs per row: on, off or both (off, then on)")
    args = ap.parse_args()
    gemm_convt.set_allow_tf32(True)
    torch.backends.cudnn.allow_tf32 = True
    small = torch.ones(256, device="cuda")
    for label, fn in (("empty call", lambda: None), ("torch narrow", lambda: small.narrow(0, 0, 8)),
                      ("torch add_ (one launch)", lambda: small.add_(1))):
        print("%-28s host %6.1f us" % (label, host_and_wall_us(fn, 200)[0]))
    for name in args.problems.split(","):
        x, w, b, kw = problem_tensors(name, args.backward)
        if args.backward:
            grad = torch.randn_like(F.conv_transpose2d(x, w, b, **kw))

        def run(conv):
            if args.backward:
                return lambda: conv(x, w, b, **kw).backward(grad)
            return lambda: conv(x, w, b, **kw)

        with torch.set_grad_enabled(args.backward):
            host, wall = host_and_wall_us(run(F.conv_transpose2d))
            print("%-8s cuDNN             kernels %4d  host %7.1f us  wall %7.1f us" % (
                name, count_kernels(run(F.conv_transpose2d)), host, wall))
            for mib in (int(v) for v in args.limits.split(",")):
                gemm_convt.set_workspace_limit(mib << 20)
                for graphs in (["off", "on"] if args.graphs == "both" else [args.graphs]):
                    gemm_convt.set_gemm_graphs(graphs == "on")
                    host, wall = host_and_wall_us(run(gemm_convt.conv_transpose2d))
                    print("%-8s ours cap %5d MiB graphs %-3s kernels %4d  host %7.1f us  wall %7.1f us  %s" % (
                        name, mib, graphs, count_kernels(run(gemm_convt.conv_transpose2d)), host, wall,
                        _C._gemm_graph_stats()))
            gemm_convt.set_workspace_limit(None)


if __name__ == "__main__":
    main()
