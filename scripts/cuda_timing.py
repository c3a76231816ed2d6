"""CUDA-event timing and per-kernel device times shared by the probe scripts."""
import statistics

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
