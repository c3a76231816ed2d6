"""One gemm_convt call on a suite problem, for ncu (profile one of its kernel launches)."""
import os
import sys

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

name, dtype = sys.argv[1], {"float32": torch.float32, "float16": torch.float16}[sys.argv[2]]
xs, w, b = make_tensors(PROBLEMS[name], dtype, "cuda")
kw = call_kwargs(PROBLEMS[name])
gemm_convt.set_allow_tf32(os.environ.get("GEMM_CONVT_PROBE_TF32", "1") == "1")
if os.environ.get("GEMM_CONVT_PROBE_IMPLICIT"):  # "on" / "off": set_implicit_gemm
    gemm_convt.set_implicit_gemm(os.environ["GEMM_CONVT_PROBE_IMPLICIT"] == "on")
if os.environ.get("GEMM_CONVT_PROBE_DIRECT"):  # "on" / "off": set_direct_gather
    gemm_convt.set_direct_gather(os.environ["GEMM_CONVT_PROBE_DIRECT"] == "on")
if os.environ.get("GEMM_CONVT_PROBE_DISJOINT"):  # "on" / "off": set_disjoint_taps
    gemm_convt.set_disjoint_taps(os.environ["GEMM_CONVT_PROBE_DISJOINT"] == "on")
with torch.no_grad():
    for _ in range(2):
        gemm_convt.conv_transpose2d(xs[0], w, b, **kw)
torch.cuda.synchronize()
