"""Runs one problem (a layer call, forward or forward + backward) in every
variant, and turns times into rows with floors, memory and accuracy."""
import torch
import torch.nn.functional as F

import gemm_convt

from . import problems as P
from .timing import extra_device_bytes, median_ms
from .variants import applied, variants

# Above this many float64 bytes the accuracy reference is skipped (it would
# not fit next to the benchmark's own tensors).
REFERENCE_BYTES_LIMIT = {"cuda": 8e9, "cpu": 2e9}


def relative_error(outs, refs, combined=False):
    """max over tensors of ||out - ref|| / ||ref||, in float64; combined: one
    norm over all tensors together (a model's gradients, some of which are
    zero in exact arithmetic, e.g. the bias of a conv followed by batch norm)."""
    if combined:
        outs = [torch.cat([o.detach().double().flatten() for o in outs])]
        refs = [torch.cat([r.detach().double().flatten() for r in refs])]
    worst = 0.0
    for out, ref in zip(outs, refs):
        ref = ref.double()
        worst = max(worst, float((out.double() - ref).norm() / ref.norm().clamp_min(1e-300)))
    return worst


def floors(info, ceilings, precision):
    """(problem floor ms, decomposition floor ms): max(bytes ÷ copy bandwidth,
    flops ÷ GEMM rate at the path's precision); None without ceilings."""
    base, products = ("tf32", 3) if precision == "tf32x3" else (precision, 1)  # split: 3 TF32 products
    if not ceilings or base not in ceilings["gemm_rates"] or info.get("flops") is None:
        return None, None
    bandwidth, rate = ceilings["copy_bandwidth"], ceilings["gemm_rates"][base] / products
    compute = info["flops"] / rate
    return (1e3 * max(info["problem_bytes"] / bandwidth, compute),
            1e3 * max(info["decomposition_bytes"] / bandwidth, compute))


def make_row(name, dtype, mode, variant, ms, extra, err, info, ceilings, error=None):
    problem_floor, decomposition_floor = floors(info, ceilings, variant.precision)
    ratio = lambda floor: ms / floor if (ms and floor) else None  # noqa: E731
    flops = info.get("flops")
    return dict(problem=name, dtype=str(dtype).replace("torch.", ""), mode=mode, variant=variant.label,
                ours=variant.ours, precision=variant.precision, ms=ms,
                extra_mib=None if extra is None else extra / 2 ** 20,
                problem_floor_ms=problem_floor, x_problem_floor=ratio(problem_floor),
                decomposition_floor_ms=decomposition_floor, x_decomposition_floor=ratio(decomposition_floor),
                tflops=flops / (ms * 1e-3) / 1e12 if (ms and flops) else None, rel_err=err, error=error)


def problem_info(p, dtype, mode, ceilings):
    """The problem's sizes and costs, and the time cuBLAS needs just to write
    its columns buffer at the measured columns rate."""
    element_size = torch.empty((), dtype=dtype).element_size()
    info = dict(kind="layer", description=P.describe(p), **P.costs(p, element_size, mode))
    info["spec"] = p._asdict()
    rates = (ceilings or {}).get("columns_write_rates", {})
    native = {torch.float32: "tf32", torch.float16: "fp16", torch.bfloat16: "bf16", torch.float64: "fp64"}[dtype]
    rate = rates.get(native) or rates.get("ieee")
    info["columns_write_ms"] = 1e3 * info["columns_bytes"] / rate if rate else None
    return info


def _layer_call(fn, w, b, kwargs, mode, grad_output):
    if mode == "forward":
        def call(x):
            with torch.no_grad():
                return fn(x, w, b, **kwargs)
        return call
    inputs = lambda x: (x, w) + ((b,) if b is not None else ())  # noqa: E731

    def step(x):
        return torch.autograd.grad(fn(x, w, b, **kwargs), inputs(x), grad_output)
    return step


def run_layer(p, dtype, device, mode, warmup, iters, ceilings, progress=None, channels_last=False):
    info = problem_info(p, dtype, mode, ceilings)
    element_size = torch.empty((), dtype=dtype).element_size()
    # Rotate inputs so repeated runs don't just measure the L2 cache.
    copies = 1 if device.type == "cpu" else max(1, min(4, int(2e8 // max(info["problem_bytes"], 1))))
    xs, w, b = P.make_tensors(p, dtype, device, copies)
    # channels_last layers: the inputs (and grad_output) so laid out; every path sees the same tensors.
    layout = torch.channels_last if channels_last else torch.contiguous_format
    xs = [x.contiguous(memory_format=layout) for x in xs]
    kwargs = P.call_kwargs(p)
    grad_output = None
    if mode == "train":
        for t in xs + [w] + ([b] if b is not None else []):
            t.requires_grad_(True)
        gen = torch.Generator(device="cpu").manual_seed(1)
        grad_output = torch.randn(p.batch, p.out_channels, *P.output_size(p), generator=gen).to(device, dtype)
        grad_output = grad_output.contiguous(memory_format=layout)
    reference = None
    if info["problem_bytes"] * 8 / element_size < REFERENCE_BYTES_LIMIT[device.type]:
        with applied(cudnn_tf32=False, ours_tf32=False):
            as64 = lambda t: None if t is None else t.detach().double().requires_grad_(mode == "train")  # noqa: E731
            go64 = None if grad_output is None else grad_output.double()
            reference = _layer_call(F.conv_transpose2d, as64(w), as64(b), kwargs, mode, go64)(as64(xs[0]))
            reference = reference if mode == "train" else (reference,)
    rows = []
    for variant in variants(device, dtype):
        if progress:
            progress.step("%s %s %s: %s" % (p.name, str(dtype).replace("torch.", ""), mode, variant.label))
        fn = gemm_convt.conv_transpose2d if variant.ours else F.conv_transpose2d
        call = _layer_call(fn, w, b, kwargs, mode, grad_output)
        try:
            with applied(**variant.settings):
                out = call(xs[0])
                outs = out if mode == "train" else (out,)
                err = relative_error(outs, reference) if reference is not None else None
                del out, outs
                ms = median_ms(call, device, warmup, iters, [(x,) for x in xs])
                extra = extra_device_bytes(call, device, (xs[0],))
            rows.append(make_row(p.name, dtype, mode, variant, ms, extra, err, info, ceilings))
        except RuntimeError as exc:  # a path that cannot run this problem: say so, keep going
            rows.append(make_row(p.name, dtype, mode, variant, None, None, None, info, ceilings,
                                 error=str(exc).splitlines()[0][:200]))
    return info, rows
