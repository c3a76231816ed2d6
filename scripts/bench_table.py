"""Turns `python -m gemm_convt.bench --json` files into a Markdown table for BENCHMARKS.md.

    python scripts/bench_table.py bench_float32.json [bench_float16.json ...]
"""
import json
import sys


def table(path):
    data = json.load(open(path))
    rows = data["rows"]
    lines = ["**%s**, torch %s, CUDA %s, dtype %s: copy %.0f GB/s, GEMM %s (measured in the same process)" % (
        data["device"], data["torch"], data["cuda"], rows[0]["dtype"], data["copy_bandwidth"] / 1e9,
        ", ".join("%s %.0f TFLOP/s" % (k, v / 1e12) for k, v in data["gemm_rates"].items())), "",
        "| problem | path | median ms | floor ms | × floor | TFLOP/s | rel err vs fp64 |",
        "|---|---|---:|---:|---:|---:|---:|"]
    for r in rows:
        floor = "%.3f | %.2f" % (r["floor_ms"], r["ms"] / r["floor_ms"]) if r["floor_ms"] else "– | –"
        err = "%.1e" % r["rel_err"] if r["rel_err"] == r["rel_err"] else "(too large to check)"
        lines.append("| %s | %s | %.3f | %s | %.1f | %s |" % (r["problem"], r["variant"], r["ms"], floor, r["tflops"], err))
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(table(p) for p in sys.argv[1:]))
