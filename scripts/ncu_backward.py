"""One training step (forward + backward) of a suite problem, for ncu: profile one
of its kernel launches.   usage: python ncu_backward.py PROBLEM float32|float16 nchw|cl"""
import sys

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

name, dtype, layout = sys.argv[1], {"float32": torch.float32, "float16": torch.float16}[sys.argv[2]], sys.argv[3]
fmt = torch.channels_last if layout == "cl" else torch.contiguous_format
xs, w, b = make_tensors(PROBLEMS[name], dtype, "cuda")
x = xs[0].contiguous(memory_format=fmt).requires_grad_()
w.requires_grad_()
kw = call_kwargs(PROBLEMS[name])
gemm_convt.set_allow_tf32(True)
for _ in range(2):
    out = gemm_convt.conv_transpose2d(x, w, b, **kw)
    out.backward(torch.randn_like(out))
torch.cuda.synchronize()
