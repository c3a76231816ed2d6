"""The source lines that hold a kernel's warp-stall samples, from `ncu_source.sh`'s CSV
(`ncu --page source --csv --print-source cuda`): each line's share of all samples and its
instructions executed, largest first.

    python scripts/ncu_source_top.py $OUT/ncu_source.csv [how many, default 15]
"""
import csv
import sys


def number(text):
    try:
        return float(text.replace(",", ""))
    except ValueError:
        return 0.0


def main(path, top=15):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    # ncu prints its own lines first; the table starts at the header naming the source column
    start = next(i for i, line in enumerate(lines) if "Source" in line and "," in line)
    rows = list(csv.DictReader(lines[start:]))
    header = list(rows[0].keys()) if rows else []
    samples = next((h for h in header if "Warp Stall Sampling (All" in h), None) or \
        next(h for h in header if "Sampling" in h)
    executed = next((h for h in header if "Instructions Executed" in h), None)
    source = next(h for h in header if h.strip().startswith("Source"))
    line_no = next((h for h in header if h.strip() in ("#", "Line", "Line #")), None)
    total = sum(number(r[samples]) for r in rows) or 1.0
    print("%s: %d lines, %.0f samples (%s)" % (path, len(rows), total, samples))
    for r in sorted(rows, key=lambda r: -number(r[samples]))[:top]:
        print("%5.1f%%  %10.0f inst  %6s  %s" % (100 * number(r[samples]) / total,
                                                number(r[executed]) if executed else 0.0,
                                                r[line_no] if line_no else "", r[source].strip()[:100]))


if __name__ == "__main__":
    main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 15)
