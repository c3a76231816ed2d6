"""Focused timing probe for kernel work (one process per chunk size, since the
GEMM_CONVT_CHUNK_BYTES override is read once): ours vs cuDNN on the suite's
problems, plus per-kernel device time of one call from the profiler.

    python scripts/probe_speed.py [--problems kb71,kb81] [--dtypes tf32,ieee,float16] [--profile] [--train]

--train times forward + backward of the layer (grad of input, weight and bias).
"""
import argparse
import os

import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors

from cuda_timing import kernel_times, median_ms  # scripts/ is on sys.path when run as a script


def train_step(conv, x, w, b, kw, grad):
    """Forward + backward of one call; the gradients land in .grad."""
    out = conv(x, w, b, **kw)
    out.backward(grad)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="kb57,kb65,kb69,kb71,kb75,kb78,kb81,unet_up,dcgan,fcn_up")
    ap.add_argument("--dtypes", default="tf32,ieee,float16", help="tf32, ieee, split, fp32, float16, bfloat16")
    ap.add_argument("--profile", action="store_true")
    ap.add_argument("--cudnn", action="store_true", help="also time cuDNN")
    ap.add_argument("--workspace", type=int, default=None, help="workspace cap in MiB")
    ap.add_argument("--fold", choices=["auto", "on", "off"], default="auto", help="set_width_folding")
    ap.add_argument("--direct", choices=["auto", "on", "off"], default="auto", help="set_direct_gather")
    ap.add_argument("--implicit", choices=["auto", "on", "off"], default="auto", help="set_implicit_gemm")
    ap.add_argument("--disjoint", choices=["auto", "on", "off"], default="auto", help="set_disjoint_taps")
    ap.add_argument("--blocks", choices=["on", "off"], default="on",
                    help="col2im's block items (off: the item walk everywhere)")
    ap.add_argument("--graphs", choices=["on", "off"], default="on",
                    help="set_gemm_graphs (off: every cuBLAS GEMM enqueued eagerly)")
    ap.add_argument("--channels-last", action="store_true", help="channels_last input")
    ap.add_argument("--train", action="store_true", help="time forward + backward")
    args = ap.parse_args()
    tag = os.environ.get("GEMM_CONVT_CHUNK_BYTES", "auto")
    if args.direct != "auto":
        gemm_convt.set_direct_gather(args.direct == "on")
        tag += "/direct-" + args.direct
    if args.implicit != "auto":
        gemm_convt.set_implicit_gemm(args.implicit == "on")
        tag += "/implicit-" + args.implicit
    if args.disjoint != "auto":
        gemm_convt.set_disjoint_taps(args.disjoint == "on")
        tag += "/disjoint-" + args.disjoint
    if args.channels_last:
        tag += "/cl"
    if args.graphs == "off":
        gemm_convt.set_gemm_graphs(False)
        tag += "/graphs-off"
    if args.blocks == "off":
        from gemm_convt._native import _C
        _C._set_col2im_blocks(False)
        tag += "/blocks-off"
    if args.fold != "auto":
        gemm_convt.set_width_folding(args.fold == "on")
        tag += "/fold-" + args.fold
    if args.workspace:
        gemm_convt.set_workspace_limit(args.workspace << 20)
        tag += "/cap%d" % args.workspace
    for name in args.problems.split(","):
        for key in args.dtypes.split(","):
            dtype = torch.float16 if key == "float16" else (torch.bfloat16 if key == "bfloat16" else torch.float32)
            xs, w, b = make_tensors(PROBLEMS[name], dtype, "cuda", 2)
            if args.channels_last:
                xs = [x.contiguous(memory_format=torch.channels_last) for x in xs]
            kw = call_kwargs(PROBLEMS[name])
            gemm_convt.set_allow_tf32(key == "tf32")
            # float32 without TF32: "split" three TF32 products, "ieee" the SIMT GEMM, "fp32" the default rule
            gemm_convt.set_fp32_split({"split": True, "fp32": None}.get(key, False))
            torch.backends.cudnn.allow_tf32 = key == "tf32"
            if args.train:
                train_probe(name, key, xs, w, b, kw, args)
            else:
                forward_probe(name, key, tag, xs, w, b, kw, args)
            del xs, w, b
            torch.cuda.empty_cache()


def backward_extra_mib(conv, x, w, b, kw, grad):
    """Peak device memory of one backward call beyond what autograd saved and
    the gradients it returns: the backward's own workspace."""
    leaves = [t for t in (x, w, b) if t is not None]
    for t in leaves:
        t.grad = None
    out = conv(x, w, b, **kw)
    torch.cuda.synchronize()
    base = torch.cuda.memory_allocated()
    torch.cuda.reset_peak_memory_stats()
    out.backward(grad)
    torch.cuda.synchronize()
    grads = sum(t.grad.numel() * t.grad.element_size() for t in leaves)
    return (torch.cuda.max_memory_allocated() - base - grads) / 2**20


def train_probe(name, key, xs, w, b, kw, args):
    x = xs[0].detach().requires_grad_()
    w = w.detach().requires_grad_()
    b = None if b is None else b.detach().requires_grad_()
    grad = torch.randn_like(F.conv_transpose2d(x.detach(), w.detach(), None, **kw))
    ours = median_ms(lambda: train_step(gemm_convt.conv_transpose2d, x, w, b, kw, grad))
    line = "%-8s %-8s train ours %8.3f ms (backward +%.1f MiB)" % (
        name, key, ours, backward_extra_mib(gemm_convt.conv_transpose2d, x, w, b, kw, grad))
    if args.cudnn:
        cud = median_ms(lambda: train_step(F.conv_transpose2d, x, w, b, kw, grad))
        line += "  cuDNN %8.3f ms  ratio %.2f" % (cud, cud / ours)
    print(line, flush=True)
    if args.profile:
        for k, t, n in kernel_times(lambda: train_step(gemm_convt.conv_transpose2d, x, w, b, kw, grad), 10):
            print("      %9.1f us %4dx  %s" % (t, n, k))


def forward_probe(name, key, tag, xs, w, b, kw, args):
    with torch.no_grad():
        # A warm call first: a process's first call read 128 MiB more than later ones (session
        # 35: dcgan TF32 +192 against 64, kb81 +164 against 36), taken to be the workspaces
        # torch makes at the first cuBLAS call on each stream, which are not the op's own.
        gemm_convt.conv_transpose2d(xs[0], w, b, **kw)
        torch.cuda.synchronize()
        torch.cuda.reset_peak_memory_stats()
        base = torch.cuda.memory_allocated()
        ours = median_ms(lambda: gemm_convt.conv_transpose2d(xs[0], w, b, **kw))
        out_bytes = gemm_convt.conv_transpose2d(xs[0], w, b, **kw).numel() * xs[0].element_size()
        extra = (torch.cuda.max_memory_allocated() - base - out_bytes) / 2**20
        line = "%-8s %-8s chunk=%-9s ours %8.3f ms (+%.4f MiB)" % (name, key, tag, ours, extra)
        if args.cudnn:
            cud = median_ms(lambda: F.conv_transpose2d(xs[0], w, b, **kw))
            line += "  cuDNN %8.3f ms  ratio %.2f" % (cud, cud / ours)
        if name not in ("kb57",):
            y = gemm_convt.conv_transpose2d(xs[1], w, b, **kw).double()
            ref = F.conv_transpose2d(xs[1].double(), w.double(), None if b is None else b.double(), **kw)
            line += "  rel %.1e" % ((y - ref).norm() / ref.norm()).item()
        print(line, flush=True)
        if args.profile:
            for k, t, n in kernel_times(lambda: gemm_convt.conv_transpose2d(xs[0], w, b, **kw)):
                print("      %9.1f us %4dx  %s" % (t, n, k))


if __name__ == "__main__":
    main()
