"""Where one call's host time goes: the torch profiler's CPU timeline of a call (torch
ops and CUDA runtime / driver calls, with their host durations), the gaps between them
being our own C++ and Python. Prints the last profiled call's events in order and a
summary by kind.

    python scripts/host_breakdown.py [--problems dcgan] [--path ours|cudnn] [--grad]
"""
import argparse
import collections
import json
import os
import tempfile

import torch
import torch.nn.functional as F
from torch.profiler import ProfilerActivity, profile, record_function

import gemm_convt
from gemm_convt._bench.problems import PROBLEMS, call_kwargs, make_tensors


def events_of_last_call(trace_path):
    with open(trace_path) as f:
        events = [e for e in json.load(f)["traceEvents"] if e.get("ph") == "X"]
    calls = sorted((e for e in events if e["name"] == "one_call" and e.get("cat") == "user_annotation"), key=lambda e: e["ts"])
    last = calls[-1]
    t0, t1 = last["ts"], last["ts"] + last["dur"]
    inside = [e for e in events if e is not last and e.get("cat") in ("cpu_op", "cuda_runtime", "cuda_driver",
                                                                       "user_annotation")
              and t0 <= e["ts"] <= t1 and e.get("tid") == last.get("tid")]
    return last, sorted(inside, key=lambda e: e["ts"])


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--problems", default="dcgan")
    ap.add_argument("--path", default="ours", choices=["ours", "cudnn"])
    ap.add_argument("--grad", action="store_true", help="parameters require grad (autograd graph recorded)")
    ap.add_argument("--calls", type=int, default=5)
    args = ap.parse_args()
    gemm_convt.set_allow_tf32(True)
    torch.backends.cudnn.allow_tf32 = True
    conv = gemm_convt.conv_transpose2d if args.path == "ours" else F.conv_transpose2d
    for name in args.problems.split(","):
        xs, w, b = make_tensors(PROBLEMS[name], torch.float32, "cuda", 1)
        kw = call_kwargs(PROBLEMS[name])
        w.requires_grad_(args.grad)
        b.requires_grad_(args.grad)
        for _ in range(10):
            conv(xs[0], w, b, **kw)
        torch.cuda.synchronize()
        with profile(activities=[ProfilerActivity.CPU, ProfilerActivity.CUDA]) as prof:
            for _ in range(args.calls):
                with record_function("one_call"):
                    conv(xs[0], w, b, **kw)
            torch.cuda.synchronize()
        path = os.path.join(tempfile.mkdtemp(), "trace.json")
        prof.export_chrome_trace(path)
        last, inside = events_of_last_call(path)
        print("== %s %s: one call %.1f us host (profiled)" % (name, args.path, last["dur"]))
        by_kind = collections.Counter()
        count = collections.Counter()
        for e in inside:
            print("  +%7.1f  %-15s %7.1f  %s" % (e["ts"] - last["ts"], e["cat"], e["dur"], e["name"][:90]))
            by_kind[(e["cat"], e["name"][:60])] += e["dur"]
            count[(e["cat"], e["name"][:60])] += 1
        print("  -- totals by event (us, count):")
        for (cat, nm), us in by_kind.most_common(25):
            print("     %-12s %-60s %8.1f  x%d" % (cat, nm, us, count[(cat, nm)]))


if __name__ == "__main__":
    main()
