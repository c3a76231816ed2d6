"""CUDA-event timing and per-kernel device times shared by the probe scripts."""
import statistics
import time

import torch
from torch.profiler import ProfilerActivity, profile


def median_ms(fn, iters=15, warmup=3):
    for _ in range(warmup):
        fn()
    torch.cuda.synchronize()
    times = []
    for _ in range(iters):
        s, e = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
        s.record()
        fn()
        e.record()
        e.synchronize()
        times.append(s.elapsed_time(e))
    return statistics.median(times)


def kernel_times(fn, top=4):
    fn()
    torch.cuda.synchronize()
    with profile(activities=[ProfilerActivity.CUDA]) as prof:
        fn()
        torch.cuda.synchronize()
    acc, count = {}, {}
    for e in prof.events():
        if e.device_type == torch.autograd.DeviceType.CUDA:
            key = e.name[:70]
            t = e.device_time_total if hasattr(e, "device_time_total") else e.cuda_time_total
            acc[key] = acc.get(key, 0.0) + t
            count[key] = count.get(key, 0) + 1
    ranked = sorted(acc.items(), key=lambda kv: -kv[1])[:top]
    return [(k, t, count[k]) for k, t in ranked]


def problem_tensors(name, requires_grad=False):
    """A suite problem's float32 CUDA input, weight and bias (leaves that require grad when
    asked) and its call's keyword arguments."""
    from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors
    p = PROBLEMS[name]
    xs, w, b = make_tensors(p, torch.float32, "cuda", 1)
    x = xs[0]
    for t in (x, w, b):
        if t is not None:
            t.requires_grad_(requires_grad)
    return x, w, b, call_kwargs(p)


def host_and_wall_us(fn, calls=25):
    """Median host time of one call (until it returns) and wall time (until the GPU is
    done), each call starting on an idle GPU."""
    fn()
    host, wall = [], []
    for _ in range(calls):
        torch.cuda.synchronize()
        start = time.perf_counter()
        fn()
        host.append(time.perf_counter() - start)
        torch.cuda.synchronize()
        wall.append(time.perf_counter() - start)
    return 1e6 * statistics.median(host), 1e6 * statistics.median(wall)
