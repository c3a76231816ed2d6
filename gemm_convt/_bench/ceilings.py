"""Ceilings measured in the benchmark's own process: copy bandwidth, GEMM rate
per precision, and the rate at which a GEMM writes a columns buffer."""
import contextlib

import torch

from .timing import median_ms

# precision: the dtype of the operands, and whether TF32 is allowed (fp32 only)
PRECISIONS = {
    "ieee": (torch.float32, False),
    "tf32": (torch.float32, True),
    "fp16": (torch.float16, False),
    "bf16": (torch.bfloat16, False),
    "fp64": (torch.float64, False),
}


def precisions_for(dtype, device):
    """The GEMM precisions a run in `dtype` needs."""
    if dtype == torch.float32:
        return ["ieee", "tf32"] if device.type == "cuda" else ["ieee"]
    return {torch.float16: ["fp16"], torch.bfloat16: ["bf16"], torch.float64: ["fp64"]}[dtype]


@contextlib.contextmanager
def matmul_tf32(enabled):
    """TF32 on or off for torch.mm, through the per-operator API where torch has
    it (>= 2.9: reading the legacy flag raises once the two APIs are mixed)."""
    flags = torch.backends.cuda.matmul
    try:
        per_operator = flags.fp32_precision is not None
    except (AttributeError, AssertionError):  # torch 1.13 asserts on unknown names
        per_operator = False
    if per_operator:
        name, value = "fp32_precision", "tf32" if enabled else "ieee"
    else:
        name, value = "allow_tf32", enabled
    saved = getattr(flags, name)
    setattr(flags, name, value)
    try:
        yield
    finally:
        setattr(flags, name, saved)


def _sizes(device):
    """(copy bytes, square GEMM size, columns GEMM (M, K, N)), small on the CPU
    so the CI run stays short. The columns GEMM is #71's: M = Cout·kh·kw = 288,
    K = Cin = 32, N = pixels (CUDA: 2**19, a 0.6 GB fp32 buffer)."""
    if device.type == "cuda":
        return 256 << 20, 8192, (288, 32, 1 << 19)
    return 64 << 20, 1024, (288, 32, 1 << 13)


def measure(device, precisions, progress=None):
    """dict(copy_bandwidth=bytes/s (read + written), gemm_rates={precision:
    flop/s}, columns_write_rates={precision: output bytes/s}), each from the
    best of several runs (a ceiling); a precision the device cannot run is
    left out."""
    copy_bytes, m, (cm, ck, cn) = _sizes(device)
    iters = 20 if device.type == "cuda" else 5
    src = torch.empty(copy_bytes, dtype=torch.uint8, device=device).random_()
    dst = torch.empty_like(src)
    ms = median_ms(lambda: dst.copy_(src), device, 3, iters, [()], min)
    result = dict(copy_bandwidth=2 * copy_bytes / (ms * 1e-3), gemm_rates={}, columns_write_rates={})
    del src, dst
    for precision in precisions:
        if progress:
            progress.note("ceilings: %s GEMM" % precision)
        dtype, tf32 = PRECISIONS[precision]
        try:
            with matmul_tf32(tf32):
                a, b = (torch.randn(m, m, device=device).to(dtype) for _ in range(2))
                ms = median_ms(lambda: torch.mm(a, b), device, 2, max(3, iters // 2), [()], min)
                result["gemm_rates"][precision] = 2.0 * m ** 3 / (ms * 1e-3)
                del a, b
                # Columns: a (M x K) weight times a (K x N) input, M·N outputs written once.
                wt, x = torch.randn(cm, ck, device=device).to(dtype), torch.randn(ck, cn, device=device).to(dtype)
                out = torch.empty(cm, cn, device=device, dtype=dtype)
                ms = median_ms(lambda: torch.mm(wt, x, out=out), device, 2, max(3, iters // 2), [()], min)
                result["columns_write_rates"][precision] = out.numel() * out.element_size() / (ms * 1e-3)
                del wt, x, out
        except RuntimeError:  # e.g. no half-precision GEMM on this CPU build of torch
            continue
    return result
