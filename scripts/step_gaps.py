"""Where a step's wall time goes: GPU busy time against idle gaps, and for each gap
whether the host was late (the next kernel started right after its launch call
returned) or the GPU waited on something else (launched early, started late).

One torch-profiler trace (CPU + CUDA) of a few calls; kernels and runtime calls are
paired by correlation id. Prints per call: wall, GPU busy (union of kernel intervals),
idle split into host-late and other, launches, and the host time spent in the call.

    python scripts/step_gaps.py [--problems dcgan,fcn_up] [--train] [--path ours|cudnn] [--dtype tf32]
"""
import argparse
import json
import os
import tempfile

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function

import gemm_convt

from cuda_timing import host_and_wall_us, problem_tensors  # scripts/ is on sys.path when run as a script

HOST_LATE_US = 3.0  # a kernel that starts within this of its launch call's end waited for the host


def load_events(prof):
    path = os.path.join(tempfile.mkdtemp(), "trace.json")
    prof.export_chrome_trace(path)
    with open(path) as f:
        return [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X"]


def gpu_events(events):
    return [e for e in events if e.get("cat") in ("kernel", "gpu_memset", "gpu_memcpy")]


def launches_by_correlation(events):
    """The runtime calls (kernel launches among them) by correlation id, to pair with kernels."""
    return {e["args"]["correlation"]: e for e in events
            if e.get("cat") == "cuda_runtime" and "correlation" in e.get("args", {})}


def analyse(events, t0, t1):
    runtime = launches_by_correlation(events)
    kernels = sorted((e for e in gpu_events(events) if t0 <= e["ts"] <= t1), key=lambda e: e["ts"])
    busy, host_late, other, end = 0.0, 0.0, 0.0, None
    for k in kernels:
        start, stop = k["ts"], k["ts"] + k["dur"]
        if end is not None and start > end:
            gap = start - end
            launch = runtime.get(k.get("args", {}).get("correlation"))
            if launch is not None and start - (launch["ts"] + launch["dur"]) < HOST_LATE_US:
                host_late += gap
            else:
                other += gap
        if end is None or stop > end:
            busy += stop - max(start, end if end is not None else start)
            end = stop
    first = kernels[0]["ts"] if kernels else t0
    return dict(kernels=len(kernels), busy=busy, host_late=host_late, other=other,
                gpu_span=(end - first) if kernels else 0.0)


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="dcgan,fcn_up")
    ap.add_argument("--path", default="ours", choices=["ours", "cudnn"])
    ap.add_argument("--dtype", default="tf32", choices=["tf32", "ieee"])
    ap.add_argument("--train", action="store_true")
    ap.add_argument("--calls", type=int, default=4)
    ap.add_argument("--events", type=int, default=0, help="list the last call's top N host events")
    ap.add_argument("--timeline", action="store_true", help="list the last call's host events in order")
    ap.add_argument("--kernels", action="store_true",
                    help="list the last call's kernels: launch time, start, duration, idle gap before")
    args = ap.parse_args()
    tf32 = args.dtype == "tf32"
    gemm_convt.set_allow_tf32(tf32)
    torch.backends.cudnn.allow_tf32 = tf32
    conv = gemm_convt.conv_transpose2d if args.path == "ours" else F.conv_transpose2d
    for name in args.problems.split(","):
        x, w, b, kw = problem_tensors(name, args.train)
        grad = None

        def call():
            nonlocal grad
            if args.train:
                out = conv(x, w, b, **kw)
                if grad is None:
                    grad = torch.randn_like(out)
                out.backward(grad)
            else:
                with torch.no_grad():
                    conv(x, w, b, **kw)

        for _ in range(5):
            call()
        host, wall = host_and_wall_us(call, 20)  # unprofiled
        print("== %s %s: unprofiled median host %.1f us, wall %.1f us" % (name, args.path, host, wall))
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(args.calls):
                torch.cuda.synchronize()
                with record_function("one_call"):
                    call()
                torch.cuda.synchronize()
        events = load_events(prof)
        calls = sorted((e for e in events if e["name"] == "one_call" and e.get("cat") == "user_annotation"),
                       key=lambda e: e["ts"])
        print("== %s %s %s %s (profiled: host times inflated)" % (name, args.path, args.dtype,
                                                                 "train" if args.train else "forward"))
        for c in calls:
            # Each call is synchronised before and after: its kernels run inside
            # [call start, next sync]; GPU span is first kernel start to last end.
            t0 = c["ts"]
            later = [d["ts"] for d in calls if d["ts"] > t0]
            t1 = later[0] if later else float("inf")
            r = analyse(events, t0, t1)
            r["t0"], r["t1"] = t0, t0 + c["dur"]
            print("  host %7.1f us | gpu span %7.1f busy %7.1f idle: host-late %6.1f other %6.1f | %d kernels"
                  % (c["dur"], r["gpu_span"], r["busy"], r["host_late"], r["other"], r["kernels"]))
        if args.events and calls:
            host_events(events, calls[-1], args.events)
        if args.timeline and calls:
            timeline(events, calls[-1])
        if args.kernels and calls:
            kernel_list(events, calls[-1])


def timeline(events, call):
    """The call's host events in order: offset from the call's start, duration, name."""
    t0, t1 = call["ts"], call["ts"] + call["dur"]
    inside = sorted((e for e in events if e is not call and t0 <= e["ts"] <= t1 and e.get("cat") in
                     ("cpu_op", "cuda_runtime", "cuda_driver", "user_annotation")), key=lambda e: e["ts"])
    for e in inside:
        print("    +%8.1f %7.1f  %-12s %s" % (e["ts"] - t0, e["dur"], e["cat"], e["name"][:80]))


def kernel_list(events, call):
    """The call's kernels in GPU order: when the host launched each (offset from the call's
    start), when it started, its duration, and the GPU's idle time before it."""
    runtime = launches_by_correlation(events)
    t0 = call["ts"]
    kernels = sorted((e for e in gpu_events(events) if e["ts"] >= t0), key=lambda e: e["ts"])
    end = None
    for k in kernels:
        launch = runtime.get(k.get("args", {}).get("correlation"))
        gap = k["ts"] - end if end is not None and k["ts"] > end else 0.0
        print("    launch +%8.1f  start +%8.1f  dur %7.1f  idle %6.1f  %s" % (
            (launch["ts"] - t0) if launch else float("nan"), k["ts"] - t0, k["dur"], gap, k["name"][:60]))
        end = max(end or 0.0, k["ts"] + k["dur"])


def host_events(events, call, top):
    """The call's host events by name: runtime/driver calls, and torch ops (inclusive times)."""
    t0, t1 = call["ts"], call["ts"] + call["dur"]
    totals = {}
    for e in events:
        if e is call or not (t0 <= e["ts"] <= t1) or e.get("cat") not in ("cpu_op", "cuda_runtime", "cuda_driver"):
            continue
        key = (e["cat"], e["name"][:70])
        n, us = totals.get(key, (0, 0.0))
        totals[key] = (n + 1, us + e["dur"])
    for (cat, name), (n, us) in sorted(totals.items(), key=lambda kv: -kv[1][1])[:top]:
        print("    %-12s %-70s %8.1f us  x%d" % (cat, name, us, n))


if __name__ == "__main__":
    main()
