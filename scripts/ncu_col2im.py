"""One gemm_convt call on a suite problem, for ncu (profile one of its kernel launches).
    usage: python ncu_col2im.py PROBLEM float32|float16|bfloat16 [nchw|cl] [forward|train]
"train" runs two training steps (forward + backward) instead of two forwards. The second
call is bracketed by cudaProfilerStart/Stop: `ncu --profile-from-start off` sees only it."""
import os
import sys

import torch

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

name = sys.argv[1]
dtype = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16}[sys.argv[2]]
layout = sys.argv[3] if len(sys.argv) > 3 else "nchw"
mode = sys.argv[4] if len(sys.argv) > 4 else "forward"
xs, w, b = make_tensors(PROBLEMS[name], dtype, "cuda")
if layout == "cl":
    xs = [x.contiguous(memory_format=torch.channels_last) for x in xs]
kw = call_kwargs(PROBLEMS[name])
gemm_convt.set_allow_tf32(os.environ.get("GEMM_CONVT_PROBE_TF32", "1") == "1")
if os.environ.get("GEMM_CONVT_PROBE_IMPLICIT"):  # "on" / "off": set_implicit_gemm
    gemm_convt.set_implicit_gemm(os.environ["GEMM_CONVT_PROBE_IMPLICIT"] == "on")
if os.environ.get("GEMM_CONVT_PROBE_DIRECT"):  # "on" / "off": set_direct_gather
    gemm_convt.set_direct_gather(os.environ["GEMM_CONVT_PROBE_DIRECT"] == "on")
if os.environ.get("GEMM_CONVT_PROBE_DISJOINT"):  # "on" / "off": set_disjoint_taps
    gemm_convt.set_disjoint_taps(os.environ["GEMM_CONVT_PROBE_DISJOINT"] == "on")
if os.environ.get("GEMM_CONVT_PROBE_FOLD"):  # "on" / "off": set_width_folding
    gemm_convt.set_width_folding(os.environ["GEMM_CONVT_PROBE_FOLD"] == "on")
if os.environ.get("GEMM_CONVT_PROBE_BLOCKS"):  # "on" / "off": col2im's block items
    from gemm_convt._native import _C
    _C._set_col2im_blocks(os.environ["GEMM_CONVT_PROBE_BLOCKS"] == "on")
if mode == "train":
    x = xs[0].requires_grad_()
    w.requires_grad_()
    grad = torch.randn_like(gemm_convt.conv_transpose2d(x, w, b, **kw))
    for i in range(2):
        torch.cuda.synchronize()
        if i == 1:
            torch.cuda.profiler.start()
        gemm_convt.conv_transpose2d(x, w, b, **kw).backward(grad)
else:
    with torch.no_grad():
        for i in range(2):
            torch.cuda.synchronize()
            if i == 1:
                torch.cuda.profiler.start()
            gemm_convt.conv_transpose2d(xs[0], w, b, **kw)
torch.cuda.synchronize()
torch.cuda.profiler.stop()
