"""Timing and memory measurement of one callable."""
import statistics
import time

import torch


def median_ms(fn, device, warmup, iters, args_cycle, statistic=statistics.median):
    """Median milliseconds of fn(*args) over `iters` runs after `warmup` runs,
    cycling through args_cycle (so repeated runs don't just hit the cache).
    CUDA: one pair of events around each run; CPU: wall clock. `statistic`
    = min gives the best run (for ceilings)."""
    for i in range(warmup):
        fn(*args_cycle[i % len(args_cycle)])
    times = []
    if device.type == "cuda":
        torch.cuda.synchronize(device)
        for i in range(iters):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn(*args_cycle[i % len(args_cycle)])
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    else:
        for i in range(iters):
            t0 = time.perf_counter()
            fn(*args_cycle[i % len(args_cycle)])
            times.append((time.perf_counter() - t0) * 1e3)
    return statistic(times)


def _tensor_bytes(result):
    if isinstance(result, torch.Tensor):
        return result.numel() * result.element_size()
    if isinstance(result, (tuple, list)):
        return sum(_tensor_bytes(r) for r in result)
    return 0


def extra_device_bytes(fn, device, args):
    """Peak device memory allocated while fn(*args) runs, beyond what was
    allocated before it and beyond the tensors it returns (output, gradients):
    the workspace and temporaries the path needs. None off CUDA."""
    if device.type != "cuda":
        return None
    torch.cuda.synchronize(device)
    torch.cuda.reset_peak_memory_stats(device)
    before = torch.cuda.memory_allocated(device)
    result = fn(*args)
    torch.cuda.synchronize(device)
    peak = torch.cuda.max_memory_allocated(device)
    kept = _tensor_bytes(result)
    del result
    return max(0, peak - before - kept)
