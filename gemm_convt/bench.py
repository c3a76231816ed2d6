"""Microbenchmarks: gemm_convt against torch's cuDNN path and torch's own
GEMM+col2im path, side by side in one process.

    python -m gemm_convt.bench                 # the default problem for this device
    python -m gemm_convt.bench --suite         # the whole suite (CUDA)
    python -m gemm_convt.bench --problem dcgan --dtype float16

Times are medians of per-iteration CUDA-event timings after warm-up (wall
clock on the CPU). The floor is max(bytes / copy bandwidth, flops / GEMM rate),
both measured on this device in this process.
"""
import argparse
import contextlib
import json
import statistics
import time

import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt._checks import output_extent, pair

# name: (N, Cin, Cout, kernel, input HxW, stride, padding, dilation, groups, bias)
PROBLEMS = {
    "kb57": (8, 64, 64, (3, 3), (1024, 1024), 1, 0, 1, 1, False),
    "kb65": (8, 64, 64, (3, 7), (512, 512), 1, 0, 1, 1, False),
    "kb69": (64, 64, 128, (3, 5), (128, 256), 1, 0, 1, 1, False),
    "kb71": (8, 32, 32, (3, 3), (512, 1024), 1, 0, 1, 1, False),
    "kb75": (16, 32, 64, (3, 5), (128, 256), (2, 3), (1, 2), (2, 1), 4, False),
    "kb78": (8, 32, 32, (3, 7), (512, 1024), 1, (1, 3), 1, 1, False),
    "kb81": (16, 32, 64, (3, 3), (64, 128), 5, 1, 2, 1, False),
    "unet_up": (8, 128, 64, (2, 2), (256, 256), 2, 0, 1, 1, True),
    "dcgan": (128, 512, 256, (4, 4), (8, 8), 2, 1, 1, 1, True),
    "fcn_up": (16, 256, 256, (4, 4), (64, 64), 2, 1, 1, 1, True),
    "cpu_small": (2, 16, 16, (3, 3), (64, 64), 2, 1, 1, 1, True),
}
SUITE = ["kb57", "kb65", "kb69", "kb71", "kb75", "kb78", "kb81", "unet_up", "dcgan", "fcn_up"]
DTYPES = {"float32": torch.float32, "float16": torch.float16, "bfloat16": torch.bfloat16, "float64": torch.float64}


def problem_tensors(name, dtype, device, copies=1):
    n, cin, cout, k, hw, stride, pad, dil, groups, bias = PROBLEMS[name]
    g = torch.Generator(device="cpu").manual_seed(0)
    xs = [torch.randn(n, cin, *hw, generator=g).to(device, dtype) for _ in range(copies)]
    w = (torch.randn(cin, cout // groups, *k, generator=g) / (cin * k[0] * k[1]) ** 0.5).to(device, dtype)
    b = torch.randn(cout, generator=g).to(device, dtype) if bias else None
    kwargs = dict(stride=pair(stride, "stride"), padding=pair(pad, "padding"), dilation=pair(dil, "dilation"),
                  groups=groups)
    return xs, w, b, kwargs


def flops_and_bytes(name, dtype):
    n, cin, cout, k, hw, stride, pad, dil, groups, bias = PROBLEMS[name]
    s, p, d = pair(stride, "stride"), pair(pad, "padding"), pair(dil, "dilation")
    out_hw = [output_extent(hw[i], k[i], s[i], p[i], 0, d[i]) for i in range(2)]
    e = torch.tensor([], dtype=dtype).element_size()
    flops = 2.0 * n * hw[0] * hw[1] * cin * (cout // groups) * k[0] * k[1]
    nbytes = e * (n * cin * hw[0] * hw[1] + cin * (cout // groups) * k[0] * k[1]
                  + n * cout * out_hw[0] * out_hw[1] + (cout if bias else 0))
    return flops, nbytes


def time_fn(fn, device, warmup, iters, args_cycle):
    """Median milliseconds of fn(args) over iters runs, cycling the inputs."""
    for i in range(warmup):
        fn(*args_cycle[i % len(args_cycle)])
    if device.type == "cuda":
        torch.cuda.synchronize()
        times = []
        for i in range(iters):
            start, end = torch.cuda.Event(enable_timing=True), torch.cuda.Event(enable_timing=True)
            start.record()
            fn(*args_cycle[i % len(args_cycle)])
            end.record()
            end.synchronize()
            times.append(start.elapsed_time(end))
    else:
        times = []
        for i in range(iters):
            t0 = time.perf_counter()
            fn(*args_cycle[i % len(args_cycle)])
            times.append((time.perf_counter() - t0) * 1e3)
    return statistics.median(times)


def measure_ceilings(device, dtype):
    """(copy bandwidth bytes/s, GEMM rates {policy: flop/s}) measured here."""
    if device.type != "cuda":
        return None, {}
    src = torch.empty(256 * 1024 * 1024, dtype=torch.uint8, device=device).random_()
    dst = torch.empty_like(src)
    ms = time_fn(lambda: dst.copy_(src), device, 3, 20, [()])
    bandwidth = 2 * src.numel() / (ms * 1e-3)
    del src, dst
    rates = {}
    m = 8192
    a = torch.randn(m, m, device=device).to(dtype)
    b = torch.randn(m, m, device=device).to(dtype)
    policies = ["ieee", "tf32"] if dtype == torch.float32 else ["native"]
    for policy in policies:
        with _matmul_tf32(policy == "tf32"):
            ms = time_fn(lambda: torch.mm(a, b), device, 3, 10, [()])
        rates[policy] = 2.0 * m ** 3 / (ms * 1e-3)
    return bandwidth, rates


@contextlib.contextmanager
def _matmul_tf32(enabled):
    saved = torch.backends.cuda.matmul.allow_tf32
    torch.backends.cuda.matmul.allow_tf32 = enabled
    try:
        yield
    finally:
        torch.backends.cuda.matmul.allow_tf32 = saved


@contextlib.contextmanager
def _settings(cudnn_enabled=True, cudnn_tf32=True, ours_tf32=None, mkldnn=True):
    get_tf32, set_tf32 = gemm_convt._settings.cudnn_conv_tf32_flag()
    saved = (torch.backends.cudnn.enabled, get_tf32(), torch.backends.mkldnn.enabled, gemm_convt._settings._allow_tf32)
    torch.backends.cudnn.enabled = cudnn_enabled
    set_tf32(cudnn_tf32)
    torch.backends.mkldnn.enabled = mkldnn
    gemm_convt.set_allow_tf32(ours_tf32)
    try:
        yield
    finally:
        torch.backends.cudnn.enabled = saved[0]
        set_tf32(saved[1])
        torch.backends.mkldnn.enabled = saved[2]
        gemm_convt.set_allow_tf32(saved[3])


def variants(device, dtype):
    """(label, settings, function) for each path timed side by side."""
    ours = gemm_convt.conv_transpose2d
    theirs = F.conv_transpose2d
    if device.type == "cpu":
        return [("gemm_convt", dict(), ours),
                ("torch (mkldnn)", dict(), theirs),
                ("torch own (no mkldnn)", dict(mkldnn=False), theirs)]
    if dtype == torch.float32:
        return [("gemm_convt tf32", dict(ours_tf32=True), ours),
                ("cuDNN tf32 (default)", dict(cudnn_tf32=True), theirs),
                ("gemm_convt fp32", dict(ours_tf32=False), ours),
                ("cuDNN fp32 strict", dict(cudnn_tf32=False), theirs),
                ("torch own (cudnn off)", dict(cudnn_enabled=False), theirs)]
    return [("gemm_convt", dict(), ours),
            ("cuDNN", dict(), theirs),
            ("torch own (cudnn off)", dict(cudnn_enabled=False), theirs)]


def run_problem(name, dtype, device, warmup, iters, ceilings):
    flops, nbytes = flops_and_bytes(name, dtype)
    # Rotate inputs so repeated runs don't just measure the L2 cache.
    copies = 1 if device.type == "cpu" else max(1, min(4, int(2e8 // max(nbytes, 1))))
    xs, w, b, kw = problem_tensors(name, dtype, device, copies)
    bandwidth, rates = ceilings
    rows = []
    with torch.no_grad():
        with _settings(cudnn_tf32=False, ours_tf32=False):
            ref = F.conv_transpose2d(xs[0].double(), w.double(), None if b is None else b.double(), **kw) \
                if device.type == "cpu" or nbytes < 4e9 else None
        for label, settings, fn in variants(device, dtype):
            with _settings(**settings):
                call = lambda x: fn(x, w, b, **kw)  # noqa: E731
                out = call(xs[0])
                err = float((out.double() - ref).norm() / ref.norm()) if ref is not None else float("nan")
                del out
                ms = time_fn(call, device, warmup, iters, [(x,) for x in xs])
            floor_ms = None
            if bandwidth:
                policy = "tf32" if ("tf32" in label and dtype == torch.float32) else (
                    "ieee" if dtype == torch.float32 else "native")
                floor_ms = 1e3 * max(nbytes / bandwidth, flops / rates[policy])
            rows.append(dict(problem=name, dtype=str(dtype).replace("torch.", ""), variant=label, ms=ms,
                             floor_ms=floor_ms, tflops=flops / (ms * 1e-3) / 1e12, rel_err=err))
    return rows


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--problem", action="append", choices=sorted(PROBLEMS), help="problem(s) to run")
    parser.add_argument("--suite", action="store_true", help="run the whole CUDA suite")
    parser.add_argument("--dtype", default="float32", choices=sorted(DTYPES))
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--warmup", type=int, default=5)
    parser.add_argument("--iters", type=int, default=30)
    parser.add_argument("--json", help="also write the rows as JSON to this file")
    args = parser.parse_args(argv)

    device = torch.device(args.device)
    dtype = DTYPES[args.dtype]
    names = args.problem or (SUITE if args.suite else ["kb71" if device.type == "cuda" else "cpu_small"])
    ceilings = measure_ceilings(device, dtype)
    where = torch.cuda.get_device_name(device) if device.type == "cuda" else "CPU (%d threads)" % torch.get_num_threads()
    print("gemm_convt %s | torch %s | %s | %s" % (gemm_convt.__version__, torch.__version__, where, args.dtype))
    if ceilings[0]:
        print("measured: copy %.0f GB/s; GEMM %s" % (ceilings[0] / 1e9, ", ".join(
            "%s %.0f TFLOP/s" % (k, v / 1e12) for k, v in ceilings[1].items())))
    rows = []
    header = "%-9s %-24s %10s %10s %7s %8s %9s" % ("problem", "path", "median ms", "floor ms", "x floor", "TFLOP/s", "rel err")
    print(header)
    print("-" * len(header))
    for name in names:
        for r in run_problem(name, dtype, device, args.warmup, args.iters, ceilings):
            rows.append(r)
            floor = "%10.3f %7.2f" % (r["floor_ms"], r["ms"] / r["floor_ms"]) if r["floor_ms"] else "%10s %7s" % ("-", "-")
            print("%-9s %-24s %10.3f %s %8.2f %9.1e" % (r["problem"], r["variant"], r["ms"], floor, r["tflops"], r["rel_err"]))
    if args.json:
        with open(args.json, "w") as f:
            json.dump(dict(device=where, torch=torch.__version__, cuda=torch.version.cuda, rows=rows,
                           copy_bandwidth=ceilings[0], gemm_rates=ceilings[1]), f, indent=1)
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
