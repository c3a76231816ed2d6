"""Device allocations made by one gemm_convt call (torch's allocator history):
where a call's extra memory goes. usage: alloc_trace.py PROBLEM DTYPE [train]"""
import sys

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

name, dtype = sys.argv[1], getattr(torch, sys.argv[2])
train = len(sys.argv) > 3
xs, w, b = make_tensors(PROBLEMS[name], dtype, "cuda", 1)
kw = call_kwargs(PROBLEMS[name])
gemm_convt.set_allow_tf32(True)
x = xs[0].requires_grad_(train)


def call():
    out = gemm_convt.conv_transpose2d(x, w, b, **kw)
    if train:
        out.backward(torch.ones_like(out))
    return out


with torch.set_grad_enabled(train):
    call()
    torch.cuda.synchronize()
    torch.cuda.memory._record_memory_history(max_entries=100000)
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out = call()
    torch.cuda.synchronize()
    peak = torch.cuda.max_memory_allocated() - base
    snap = torch.cuda.memory._snapshot()
    torch.cuda.memory._record_memory_history(enabled=None)
sizes = [(e["action"], e["size"] >> 10) for t in snap["device_traces"] for e in t
         if e["action"] in ("alloc", "free_requested")]
print("%s %s: peak beyond inputs %.1f MiB, output %.1f MiB" % (
    name, sys.argv[2], peak / 2**20, out.numel() * out.element_size() / 2**20))
print("allocator events (action, KiB):", sizes)
