"""Host time of one chunk-sized GEMM enqueued eagerly against the same GEMM replayed from a
CUDA graph (captured once, same pointers): what a cached per-chunk GEMM graph would save on
this host, and whether the replayed kernel runs as fast.

    python scripts/graph_gemm_host_probe.py
"""
import statistics
import time

import os

import torch

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script

# (label, batch, m, k, n): fcn_up's folded chunk (2 phases), dcgan's folded forward chunk,
# dcgan's backward grad_input and grad_weight GEMMs of one chunk (43 samples).
SHAPES = [("fcn_up fold", 2, 2048, 512, 1024), ("dcgan fold", 2, 1792, 1024, 1024),
          ("dcgan grad_input", 43, 64, 4096, 512), ("dcgan grad_weight", 1, 4096, 2752, 512)]


def host_us(fn, calls=200):
    for _ in range(10):
        fn()
    torch.cuda.synchronize()
    t = []
    for _ in range(calls):
        s = time.perf_counter()
        fn()
        t.append(time.perf_counter() - s)
        if len(t) % 20 == 0:
            torch.cuda.synchronize()
    return 1e6 * statistics.median(t)


def main():
    torch.backends.cuda.matmul.allow_tf32 = True
    print("CUBLAS_WORKSPACE_CONFIG=%s" % os.environ.get("CUBLAS_WORKSPACE_CONFIG"))
    for label, batch, m, k, n in SHAPES:
        a = torch.randn(batch, m, k, device="cuda")
        b = torch.randn(batch, k, n, device="cuda")
        c = torch.empty(batch, m, n, device="cuda")
        eager = lambda: torch.bmm(a, b, out=c)
        eager()
        s = torch.cuda.Stream()
        s.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(s):
            eager()
        torch.cuda.current_stream().wait_stream(s)
        g = torch.cuda.CUDAGraph()
        with torch.cuda.graph(g):
            eager()
        replay = g.replay
        kernel = kernel_times(eager, top=1)[0][0]
        print("%-18s kernel %s" % (label, kernel))
        print("%-18s eager host %5.1f us, %6.1f us GPU | graph replay host %5.1f us, %6.1f us GPU" % (
            label, host_us(eager), 1e3 * median_ms(eager, 30), host_us(replay), 1e3 * median_ms(replay, 30)))


if __name__ == "__main__":
    main()
