"""Training step of one layer (forward + backward) timed eagerly and replayed from a CUDA
graph, ours against cuDNN, in one process: how much of each path's eager time is host
time. Also the host cost of the torch ops our CUDA calls make per call (dcgan's shapes).

    python scripts/graph_step_probe.py [--problems dcgan,fcn_up,unet_up,kb81] [--dtype tf32]
"""
import argparse

import torch
import torch.nn.functional as F

import gemm_convt

from cuda_timing import host_and_wall_us, median_ms, problem_tensors  # scripts/ is on sys.path


def graphed_step(conv, x, w, b, kw, grad):
    """A CUDA graph of forward + backward (gradients land in fresh .grad tensors)."""
    s = torch.cuda.Stream()
    s.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(s):
        for _ in range(3):
            conv(x, w, b, **kw).backward(grad)
    torch.cuda.current_stream().wait_stream(s)
    for t in (x, w, b):
        if t is not None:
            t.grad = None
    g = torch.cuda.CUDAGraph()
    with torch.cuda.graph(g):
        conv(x, w, b, **kw).backward(grad)
    return g


def torch_op_costs():
    x, w, b, kw = problem_tensors("dcgan")
    gy = torch.randn(F.conv_transpose2d(x, w, b, **kw).shape, device="cuda")
    buf = torch.empty(1 << 20, device="cuda")
    ops = {
        "weight K-major copy": lambda: w.reshape(1, 512, 4096).transpose(1, 2).contiguous(),
        "4 narrows": lambda: [buf.narrow(0, i * 1024, 1024) for i in range(4)],
        "grad_bias sum": lambda: torch.sum(gy, (0, 2, 3), dtype=torch.float32).to(torch.float32),
        "empty": lambda: torch.empty(1024, device="cuda"),
        "add_ (one launch)": lambda: buf.add_(1),
    }
    for name, fn in ops.items():
        print("  host %-22s %6.1f us" % (name, host_and_wall_us(fn, 200)[0]))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="dcgan,fcn_up,unet_up,kb81")
    ap.add_argument("--dtype", default="tf32", choices=["tf32", "ieee"])
    args = ap.parse_args()
    tf32 = args.dtype == "tf32"
    gemm_convt.set_allow_tf32(tf32)
    torch.backends.cudnn.allow_tf32 = tf32
    torch_op_costs()
    for name in args.problems.split(","):
        x, w, b, kw = problem_tensors(name, True)
        grad = torch.randn(F.conv_transpose2d(x, w, b, **kw).shape, device="cuda")
        line = []
        for label, conv in (("ours", gemm_convt.conv_transpose2d), ("cuDNN", F.conv_transpose2d)):
            eager = median_ms(lambda: conv(x, w, b, **kw).backward(grad), iters=30, warmup=5)
            host, _ = host_and_wall_us(lambda: conv(x, w, b, **kw).backward(grad), 20)
            g = graphed_step(conv, x, w, b, kw, grad)
            replay = median_ms(g.replay, iters=30, warmup=5)
            line.append((label, eager, host, replay))
        (_, e0, h0, r0), (_, e1, h1, r1) = line
        print("%-8s %s eager ours %.3f ms (host %.0f us) cuDNN %.3f (host %.0f) ratio %.2f | graph ours %.3f "
              "cuDNN %.3f ratio %.2f" % (name, args.dtype, e0, h0, e1, h1, e1 / e0, r0, r1, r1 / r0))


if __name__ == "__main__":
    main()
