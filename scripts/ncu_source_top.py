"""The instructions (or source lines) that hold a kernel's warp-stall samples, from
`ncu_source.sh`'s CSV (`ncu --page source --csv --print-source sass|cuda`): each row's share
of all samples, largest first, and the samples summed by SASS opcode.

    python scripts/ncu_source_top.py $OUT/ncu_sass.csv [how many, default 15]

Session 32: the device's ncu wrote its CUDA-source CSV with no metric columns ("Line No","Source" alone);
the SASS one is what carries the samples.
"""
import collections
import csv
import sys


def number(text):
    try:
        return float(text.replace(",", ""))
    except (AttributeError, ValueError):
        return 0.0


def opcode(source):
    """The mnemonic of a SASS line: '@!P0 BRA 0x120' -> 'BRA', 'SYNCS.PHASECHK.TRANS64 ...' -> 'SYNCS'."""
    words = source.split()
    if words and words[0].startswith("@"):
        words = words[1:]
    return words[0].split(".")[0] if words else ""


def main(path, top=15):
    with open(path, newline="") as f:
        lines = f.read().splitlines()
    # ncu prints its own lines first; the table starts at the header naming the source column
    start = next(i for i, line in enumerate(lines) if '"Source"' in line and "," in line)
    rows = [r for r in csv.DictReader(lines[start:]) if r]
    header = list(rows[0].keys()) if rows else []
    samples = next((h for h in header if h and "Warp Stall Sampling (All" in h), None) or \
        next((h for h in header if h and "Sampling" in h), None)
    if samples is None:
        print("%s: no stall-sampling column; header: %s" % (path, header))
        return 1
    executed = next((h for h in header if h and "Instructions Executed" in h), None)
    source = next(h for h in header if h and h.strip() == "Source")
    where = next((h for h in header if h and h.strip() in ("Address", "# Address", "Line No", "#")), None)
    total = sum(number(r[samples]) for r in rows) or 1.0
    print("%s: %d rows, %.0f samples (%s)" % (path, len(rows), total, samples))
    for r in sorted(rows, key=lambda r: -number(r[samples]))[:top]:
        print("%5.1f%%  %10.0f inst  %8s  %s" % (100 * number(r[samples]) / total,
                                                number(r[executed]) if executed else 0.0,
                                                r[where] if where else "", (r[source] or "").strip()[:100]))
    by_opcode = collections.Counter()
    for r in rows:
        by_opcode[opcode(r[source] or "")] += number(r[samples])
    print("by opcode: " + ", ".join("%s %.1f%%" % (op, 100 * v / total) for op, v in by_opcode.most_common(10)))
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1], int(sys.argv[2]) if len(sys.argv) > 2 else 15))
