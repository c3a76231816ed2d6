"""Time of a plain device copy of B MiB (read B, write B) for chunk-sized B:
the streaming floor a col2im launch of that size is compared with."""
import torch

from cuda_timing import median_ms  # scripts/ is on sys.path when run as a script

for mib in (4, 8, 16, 22, 32, 64, 256):
    n = (mib << 20) // 4
    src, dst = torch.randn(n, device="cuda"), torch.empty(n, device="cuda")
    ms = median_ms(lambda: dst.copy_(src), iters=50, warmup=5)
    print("copy %4d MiB: %7.1f us  %5.2f TB/s (read + write)" % (mib, ms * 1e3, 2 * n * 4 / ms / 1e9))
