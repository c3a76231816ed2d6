"""cuBLAS TF32 rate of the forward's columns GEMM layout (A M-major, B K-major,
K = 256 as on fcn_up) against the chunk's size M x N: how much the workspace cap
costs the GEMM. Prints the first kernel cuBLAS launches for each shape."""
import torch
from torch.profiler import ProfilerActivity, profile

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script

torch.backends.cuda.matmul.allow_tf32 = True
K = 256


for m in (1024, 2048, 2816, 4096, 8192, 16384):
    for n in (1024, 2048, 4096):
        a_t = torch.randn(K, m, device="cuda")
        b_t = torch.randn(n, K, device="cuda")
        c = torch.empty(n, m, device="cuda")
        fn = lambda: torch.mm(b_t, a_t, out=c)  # noqa: E731  (cuBLAS: m x n = A(m x K) · B(K x n), "nn")
        ms = median_ms(fn)
        with profile(activities=[ProfilerActivity.CUDA]) as prof:
            fn()
            torch.cuda.synchronize()
        names = [e.name[:60] for e in prof.events() if e.device_type == torch.autograd.DeviceType.CUDA]
        print("M=%5d N=%4d K=%d  %.3f ms  %.0f TFLOP/s  %.0f GB/s written  %s"
              % (m, n, K, ms, 2 * m * n * K / ms / 1e9, m * n * 4 / ms / 1e6, names[0] if names else "?"))
