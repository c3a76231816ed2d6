"""Host time of one call against its device time: enqueue N calls back to back on an
idle GPU and time the host loop alone, then until the device is done. A call whose host
time is near its device time is host-bound: its wall time follows the host's pace.

    python scripts/host_time_probe.py [--problems dcgan,fcn_up] [--calls 20]
"""
import argparse
import time

import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors


def host_and_total_us(fn, calls):
    for _ in range(3):
        fn()
    torch.cuda.synchronize()
    t0 = time.perf_counter()
    for _ in range(calls):
        fn()
    t1 = time.perf_counter()
    torch.cuda.synchronize()
    t2 = time.perf_counter()
    return (t1 - t0) / calls * 1e6, (t2 - t0) / calls * 1e6


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="dcgan,fcn_up")
    ap.add_argument("--calls", type=int, default=20)
    args = ap.parse_args()
    gemm_convt.set_allow_tf32(True)
    torch.backends.cudnn.allow_tf32 = True
    for name in args.problems.split(","):
        xs, w, b = make_tensors(PROBLEMS[name], torch.float32, "cuda", 1)
        kw = call_kwargs(PROBLEMS[name])
        with torch.no_grad():
            for label, conv in (("ours", gemm_convt.conv_transpose2d), ("cuDNN", F.conv_transpose2d)):
                for _ in range(3):
                    host, total = host_and_total_us(lambda: conv(xs[0], w, b, **kw), args.calls)
                    print("%-8s tf32 %-6s host %7.1f us/call, host+device %7.1f us/call"
                          % (name, label, host, total), flush=True)


if __name__ == "__main__":
    main()
