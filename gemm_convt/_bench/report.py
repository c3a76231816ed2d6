"""Output of the benchmark: the table (stdout), JSON, CSV and the PNG plot."""
import csv
import json
import math

CSV_FIELDS = ["problem", "dtype", "mode", "variant", "ours", "precision", "ms", "extra_mib", "problem_floor_ms",
              "x_problem_floor", "decomposition_floor_ms", "x_decomposition_floor", "tflops", "rel_err", "error"]

HEADER = "  %-24s %9s %9s %9s %7s %9s %7s %8s %8s" % (
    "path", "median ms", "extra MiB", "floor ms", "x floor", "decomp ms", "x decomp", "TFLOP/s", "rel err")


def _fmt(value, spec):
    return spec % value if value is not None and not (isinstance(value, float) and math.isnan(value)) else "-"


def _ratio(value):
    return "-" if value is None else ("%.2f" % value if value < 100 else "%.0f" % value)


def ceilings_line(ceilings):
    if not ceilings:
        return "ceilings: not measured"
    parts = ["copy %s GB/s" % _fmt(ceilings["copy_bandwidth"] / 1e9, "%.1f")]
    if ceilings["gemm_rates"]:
        parts.append("GEMM " + ", ".join("%s %.3g TFLOP/s" % (k, v / 1e12) for k, v in ceilings["gemm_rates"].items()))
    if ceilings["columns_write_rates"]:
        parts.append("GEMM writing columns " + ", ".join(
            "%s %.1f GB/s" % (k, v / 1e9) for k, v in ceilings["columns_write_rates"].items()))
    return "ceilings measured here: " + "; ".join(parts)


def problem_line(name, dtype, info):
    line = "%s (%s): %s" % (name, dtype, info["description"])
    if info.get("flops") is not None:
        line += " | %.3g GFLOP, tensors %.3g MB, columns %.3g MB" % (
            info["flops"] / 1e9, info["problem_bytes"] / 1e6, info["columns_bytes"] / 1e6)
        if info.get("columns_write_ms") is not None:
            line += " (GEMM writes them in %.3g ms)" % info["columns_write_ms"]
    return line


def row_line(r):
    if r["error"]:
        return "  %-24s error: %s" % (r["variant"], r["error"][:100])
    return "  %-24s %9s %9s %9s %7s %9s %7s %8s %8s" % (
        r["variant"], _fmt(r["ms"], "%.3f"), _fmt(r["extra_mib"], "%.1f"), _fmt(r["problem_floor_ms"], "%.3f"),
        _ratio(r["x_problem_floor"]), _fmt(r["decomposition_floor_ms"], "%.3f"),
        _ratio(r["x_decomposition_floor"]), _fmt(r["tflops"], "%.2f"), _fmt(r["rel_err"], "%.1e"))


def legend():
    return ("floor: max(tensor bytes / copy bandwidth, flops / GEMM rate at the path's precision; split fp32 = 3 TF32\n"
            "products); decomp: the same with the columns buffer written and read once (training: 5 passes);\n"
            "x: median / floor. extra MiB: peak device memory beyond inputs and results.")


def write_json(path_or_file, meta, ceilings, problems, rows):
    data = dict(meta, copy_bandwidth=ceilings and ceilings["copy_bandwidth"],
                gemm_rates=ceilings and ceilings["gemm_rates"],
                columns_write_rates=ceilings and ceilings["columns_write_rates"], problems=problems, rows=rows)
    _write(path_or_file, lambda f: json.dump(data, f, indent=1))


def write_csv(path_or_file, rows):
    def dump(f):
        writer = csv.DictWriter(f, fieldnames=CSV_FIELDS, extrasaction="ignore", lineterminator="\n")
        writer.writeheader()
        for r in rows:
            writer.writerow({k: ("" if r.get(k) is None else r[k]) for k in CSV_FIELDS})
    _write(path_or_file, dump)


def _write(path_or_file, dump):
    if hasattr(path_or_file, "write"):
        dump(path_or_file)
    else:
        with open(path_or_file, "w", newline="") as f:
            dump(f)


def plot(path, rows, title):
    """Two panels per (problem, dtype): each path's time relative to the cuDNN
    (CPU: mkldnn) default, and the fraction of the decomposition floor it
    reaches (floor / time). Needs matplotlib (the `plot` extra)."""
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    groups = []
    for r in rows:
        key = "%s\n%s" % (r["problem"], r["dtype"])
        if key not in groups:
            groups.append(key)
    labels = []
    for r in rows:
        if r["variant"] not in labels:
            labels.append(r["variant"])
    by = {("%s\n%s" % (r["problem"], r["dtype"]), r["variant"]): r for r in rows if r["ms"]}

    def baseline(group):
        for label in labels:
            if not by.get((group, label), {}).get("ours", True) and "own" not in label:
                return by[(group, label)]["ms"]
        return None

    fig, axes = plt.subplots(2, 1, figsize=(max(6.0, 1.3 * len(groups) + 2), 7.5), sharex=True)
    width = 0.8 / max(1, len(labels))
    for i, label in enumerate(labels):
        xs, rel, frac, fxs = [], [], [], []
        for g, group in enumerate(groups):
            r = by.get((group, label))
            base = baseline(group)
            if r and base:
                xs.append(g + (i - (len(labels) - 1) / 2) * width)
                rel.append(r["ms"] / base)
            if r and r.get("decomposition_floor_ms"):
                fxs.append(g + (i - (len(labels) - 1) / 2) * width)
                frac.append(r["decomposition_floor_ms"] / r["ms"])
        axes[0].bar(xs, rel, width, label=label)
        axes[1].bar(fxs, frac, width, label=label)
    axes[0].set_yscale("log")
    axes[0].axhline(1.0, color="black", linewidth=0.8)
    axes[0].set_ylabel("time / torch default path\n(lower is faster)")
    axes[0].legend(fontsize=7, ncol=2)
    axes[0].set_title(title, fontsize=9)
    axes[1].set_ylabel("fraction of the decomposition floor\n(floor / time, 1 = at the floor)")
    axes[1].set_xticks(range(len(groups)))
    axes[1].set_xticklabels(groups, fontsize=7)
    fig.tight_layout()
    fig.savefig(path, dpi=120)
    plt.close(fig)
