"""Turns `python -m gemm_convt.bench --json` files into Markdown tables for BENCHMARKS.md.

    python scripts/bench_table.py bench_float32.json [bench_float16.json ...]
"""
import json
import sys


def _num(value, spec):
    return "–" if value is None or value != value else spec % value


def table(path):
    data = json.load(open(path))
    rows = data["rows"]
    ceilings = "ceilings not measured"
    if data.get("copy_bandwidth"):
        ceilings = "copy %.0f GB/s, GEMM %s, GEMM writing columns %s" % (
            data["copy_bandwidth"] / 1e9,
            ", ".join("%s %.0f TFLOP/s" % (k, v / 1e12) for k, v in data["gemm_rates"].items()),
            ", ".join("%s %.0f GB/s" % (k, v / 1e9) for k, v in (data.get("columns_write_rates") or {}).items()))
    lines = ["**%s**, torch %s, CUDA %s, mode %s: %s (measured in the same process)" % (
        data["device"], data["torch"], data["cuda"], data.get("mode", "forward"), ceilings), "",
        "| problem | dtype | path | median ms | extra MiB | floor ms | × floor | decomp. floor ms | × decomp. "
        "| TFLOP/s | rel err vs fp64 |",
        "|---|---|---|---:|---:|---:|---:|---:|---:|---:|---:|"]
    for r in rows:
        if r.get("error"):
            lines.append("| %s | %s | %s | error: %s | | | | | | | |" % (
                r["problem"], r["dtype"], r["variant"], r["error"][:80].replace("|", "/")))
            continue
        lines.append("| %s | %s | %s | %s | %s | %s | %s | %s | %s | %s | %s |" % (
            r["problem"], r["dtype"], r["variant"], _num(r["ms"], "%.3f"), _num(r["extra_mib"], "%.0f"),
            _num(r["problem_floor_ms"], "%.3f"), _num(r["x_problem_floor"], "%.2f"),
            _num(r["decomposition_floor_ms"], "%.3f"), _num(r["x_decomposition_floor"], "%.2f"),
            _num(r["tflops"], "%.1f"), _num(r["rel_err"], "%.1e") if r["rel_err"] is not None
            else "(too large to check)"))
    return "\n".join(lines)


if __name__ == "__main__":
    print("\n\n".join(table(p) for p in sys.argv[1:]))
