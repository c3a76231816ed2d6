"""Extra device memory of one warm forward call with width folding on and off
(fcn_up-like layer, TF32): peak allocated beyond the inputs and the output,
measured on the second call so that cuBLAS's per-stream workspaces, allocated
on first use, are already held."""
import torch

import gemm_convt

x = torch.randn(16, 256, 64, 64, device="cuda")
w = torch.randn(256, 256, 4, 4, device="cuda")
b = torch.randn(256, device="cuda")
gemm_convt.set_allow_tf32(True)
for fold in (True, False, True):
    gemm_convt.set_width_folding(fold)
    with torch.no_grad():
        out = gemm_convt.conv_transpose2d(x, w, b, stride=2, padding=1)  # warm-up
        del out
        torch.cuda.synchronize()
        base = torch.cuda.memory_allocated()
        torch.cuda.reset_peak_memory_stats()
        out = gemm_convt.conv_transpose2d(x, w, b, stride=2, padding=1)
        torch.cuda.synchronize()
        extra = (torch.cuda.max_memory_allocated() - base - out.numel() * out.element_size()) / 2**20
        print("fold=%s: extra %.1f MiB (held before the call: %.1f MiB)" % (fold, extra, base / 2**20))
        del out
