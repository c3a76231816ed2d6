"""Forward calls of one suite problem (TF32) for a host-side profile:
    nsys profile --trace=cuda,osrt python scripts/host_profile_case.py dcgan 50
then `nsys stats --report cuda_api_sum` lists the CUDA runtime/driver calls' host time."""
import sys

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

name, calls = sys.argv[1], int(sys.argv[2])
xs, w, b = make_tensors(PROBLEMS[name], torch.float32, "cuda", 1)
kw = call_kwargs(PROBLEMS[name])
gemm_convt.set_allow_tf32(True)
with torch.no_grad():
    for _ in range(calls):
        gemm_convt.conv_transpose2d(xs[0], w, b, **kw)
torch.cuda.synchronize()
