"""The floor for col2im's bytes in one launch, as ncu sees it (caches flushed before
each kernel): torch kernels that read and write the same byte counts as one fcn_up
col2im launch (float32, width folded: 16.8 MB of columns in, 8.4 MB out), reading
sequentially. Run under `ncu --profile-from-start off`; the last call is profiled.
    python stream_floor_probe.py"""
import torch

cols = torch.randn(256 * 4 * 2 * 32 * 64, device="cuda")  # one chunk's columns
out = torch.empty(cols.numel() // 2, device="cuda")
big = torch.empty_like(cols)
for i in range(2):
    torch.cuda.synchronize()
    if i == 1:
        torch.cuda.profiler.start()
    torch.sum(cols.view(-1, 2), dim=1, out=out)      # read 2 values, write 1: col2im's ratio here
    out.copy_(cols[: out.numel()])                   # copy 8.4 MB
    big.copy_(cols)                                  # copy 16.8 MB
    torch.add(cols[: out.numel()], cols[out.numel():], out=out)  # two 8.4 MB streams in, one out
torch.cuda.synchronize()
torch.cuda.profiler.stop()
