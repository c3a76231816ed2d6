"""Multi-GPU check: a gemm_convt-converted U-Net trained with
DistributedDataParallel on 2 GPUs (NCCL) ends with the same parameters as the
same model trained on one GPU with the same global batch.

    python scripts/ddp_check.py                      # 2 GPUs, NCCL, 10 steps
    python scripts/ddp_check.py --device cpu         # the same logic on the CPU (gloo), 2 processes

Each of the W processes takes 1/W of every global batch; DDP averages the
gradients, which equals the gradient of the loss over the global batch. Batch
norm: SyncBatchNorm under DDP (statistics over the global batch, as one GPU
computes them); it needs CUDA, so on the CPU batch norm is frozen (running
statistics) in both runs instead. Everything runs in strict fp32 (TF32 off for
gemm_convt and cuDNN), so the runs differ only by summation order.

Pass criterion (stated up front): after N steps, for every parameter and
buffer, max |DDP - single| <= TOL · max(1, max |single|), TOL = 1e-4 by
default; the per-step losses are printed beside each other. Exit status 0 on
pass, 1 on a mismatch.
"""
import argparse
import datetime
import os
import socket
import sys
import tempfile

# NCCL's NVLink multicast (NVLS) and torch's symmetric-memory multicast stay off:
# the lent multi-GPU machines do not support them reliably.
os.environ["NCCL_NVLS_ENABLE"] = "0"
os.environ["TORCH_SYMM_MEM_DISABLE_MULTICAST"] = "1"

import torch  # noqa: E402
import torch.distributed as dist  # noqa: E402
import torch.multiprocessing as mp  # noqa: E402
import torch.nn.functional as F  # noqa: E402

import gemm_convt  # noqa: E402
from gemm_convt import models  # noqa: E402


def strict_fp32():
    torch.backends.cudnn.allow_tf32 = False
    torch.backends.cuda.matmul.allow_tf32 = False
    gemm_convt.set_allow_tf32(False)


def build(args):
    torch.manual_seed(args.seed)
    model = models.unet(in_channels=3, out_channels=2, width=args.width, depth=3)
    return model if args.original else gemm_convt.convert(model)


def data(args):
    gen = torch.Generator().manual_seed(args.seed + 1)
    xs = torch.randn(args.steps, args.batch, 3, args.size, args.size, generator=gen)
    ts = torch.randn(args.steps, args.batch, 2, args.size, args.size, generator=gen)
    return xs, ts


def train(model, xs, ts, device, args, reduce_loss=None):
    """N SGD steps; returns the loss of each step (over the global batch)."""
    optimizer = torch.optim.SGD(model.parameters(), lr=args.lr, momentum=0.9)
    losses = []
    for x, t in zip(xs, ts):
        model.train()
        if args.bn == "frozen":
            for m in model.modules():
                if isinstance(m, torch.nn.modules.batchnorm._BatchNorm):
                    m.eval()
        optimizer.zero_grad()
        loss = F.mse_loss(model(x.to(device)), t.to(device))
        loss.backward()
        optimizer.step()
        loss = loss.detach()
        losses.append(float(reduce_loss(loss) if reduce_loss else loss))
    return losses


def worker(rank, args, port, out_path):
    strict_fp32()
    backend = "nccl" if args.device == "cuda" else "gloo"
    if backend == "gloo":
        os.environ.setdefault("GLOO_SOCKET_IFNAME", "lo")  # all processes are on this host
    # A bounded timeout: a stuck rendezvous or collective fails instead of hanging.
    dist.init_process_group(backend, init_method="tcp://127.0.0.1:%d" % port, rank=rank, world_size=args.nprocs,
                            timeout=datetime.timedelta(seconds=args.timeout))
    try:
        device = torch.device("cuda", rank) if args.device == "cuda" else torch.device("cpu")
        if device.type == "cuda":
            torch.cuda.set_device(device)
        model = build(args)
        if args.bn == "sync":
            model = torch.nn.SyncBatchNorm.convert_sync_batchnorm(model)
        model = model.to(device)
        ddp = torch.nn.parallel.DistributedDataParallel(model, device_ids=[rank] if device.type == "cuda" else None)
        xs, ts = data(args)
        share = args.batch // args.nprocs
        local = slice(rank * share, (rank + 1) * share)

        def global_mean(loss):
            loss = loss.clone()
            dist.all_reduce(loss)
            return loss / args.nprocs
        losses = train(ddp, xs[:, local], ts[:, local], device, args, global_mean)
        if rank == 0:
            state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
            torch.save(dict(losses=losses, state=state), out_path)
        dist.barrier()
    except BaseException:
        dist.destroy_process_group()
        raise
    # Leave without running destructors: tearing DDP down on the gloo backend
    # can deadlock (~ProcessGroupGloo joins its worker thread while holding the
    # GIL; the thread, freeing a finished all-reduce's tensors, waits for the
    # GIL). Seen in 2-5 of 25 CPU runs on torch 1.13 and 2.14 (py-spy stacks).
    sys.stdout.flush()
    sys.stderr.flush()
    os._exit(0)


def free_port():
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def compare(single_state, ddp_state, tol):
    """(worst name, worst scaled difference) over parameters and float buffers."""
    worst = ("", 0.0)
    for name, ref in single_state.items():
        got = ddp_state[name]
        if not ref.is_floating_point():
            if not torch.equal(got, ref):
                return name, float("inf")
            continue
        scaled = (got.double() - ref.double()).abs().max().item() / max(1.0, ref.abs().max().item())
        if not scaled == scaled:  # NaN
            return name, float("inf")
        if scaled > worst[1]:
            worst = (name, scaled)
    return worst


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", choices=["cuda", "cpu"], default="cuda")
    parser.add_argument("--nprocs", type=int, default=2, help="processes (one GPU each on CUDA)")
    parser.add_argument("--steps", type=int, default=10)
    parser.add_argument("--batch", type=int, default=8, help="global batch, split evenly across processes")
    parser.add_argument("--size", type=int, default=64, help="image height and width (a multiple of 8)")
    parser.add_argument("--width", type=int, default=16, help="U-Net base width")
    parser.add_argument("--lr", type=float, default=0.01)
    parser.add_argument("--seed", type=int, default=0)
    parser.add_argument("--tol", type=float, default=1e-4)
    parser.add_argument("--timeout", type=int, default=120, help="seconds for the rendezvous and each collective")
    parser.add_argument("--bn", choices=["sync", "frozen"], help="batch norm: sync (CUDA default) or frozen")
    parser.add_argument("--original", action="store_true", help="don't convert (checks this harness itself)")
    args = parser.parse_args(argv)
    args.bn = args.bn or ("sync" if args.device == "cuda" else "frozen")
    if args.device == "cuda" and torch.cuda.device_count() < args.nprocs:
        print("ddp_check: needs %d GPUs, found %d" % (args.nprocs, torch.cuda.device_count()), file=sys.stderr)
        return 2
    if args.bn == "sync" and args.device != "cuda":
        parser.error("--bn sync needs CUDA (SyncBatchNorm is GPU-only)")
    if args.batch % args.nprocs:
        parser.error("--batch must be divisible by --nprocs")
    strict_fp32()
    print("ddp_check: torch %s, gemm_convt %s, %s, %d processes (%s), %d steps, global batch %d, %dx%d, "
          "batch norm %s, %s model, strict fp32" % (
              torch.__version__, gemm_convt.__version__,
              torch.cuda.get_device_name(0) if args.device == "cuda" else "CPU", args.nprocs,
              "nccl" if args.device == "cuda" else "gloo", args.steps, args.batch, args.size, args.size, args.bn,
              "original" if args.original else "converted"))

    device = torch.device("cuda", 0) if args.device == "cuda" else torch.device("cpu")
    single = build(args).to(device)
    initial_state = {k: v.detach().cpu().clone() for k, v in single.state_dict().items()}
    xs, ts = data(args)
    single_losses = train(single, xs, ts, device, args)
    single_state = {k: v.detach().cpu() for k, v in single.state_dict().items()}
    del single

    with tempfile.TemporaryDirectory() as tmp:
        out_path = os.path.join(tmp, "ddp.pt")
        mp.spawn(worker, args=(args, free_port(), out_path), nprocs=args.nprocs, join=True)
        result = torch.load(out_path)

    print("%4s %16s %16s %10s" % ("step", "loss 1 process", "loss DDP", "|diff|"))
    for i, (a, b) in enumerate(zip(single_losses, result["losses"])):
        print("%4d %16.9f %16.9f %10.2e" % (i, a, b, abs(a - b)))
    # How far training moved the float tensors (counters like num_batches_tracked excluded).
    moved_name, moved = compare({k: v for k, v in initial_state.items() if v.is_floating_point()},
                                single_state, args.tol)
    print("training moved the parameters by up to %.3e (scaled, at %s): the scale a wrong gradient would show at"
          % (moved, moved_name))
    name, worst = compare(single_state, result["state"], args.tol)
    ok = worst <= args.tol
    print("max |DDP - single| / max(1, max|single|) = %.3e at %s (tolerance %.0e): %s"
          % (worst, name, args.tol, "PASS" if ok else "FAIL"))
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
