"""Per-kernel sums of an `ncu --csv --print-units base` run (kernels serialised by ncu, so
each duration is the kernel alone): count, total and mean duration, DRAM bytes and rate.
    usage: python ncu_sum.py NCU_CSV_FILE"""
import csv
import sys
from collections import OrderedDict


def main(path):
    with open(path) as f:
        lines = [line for line in f if line.startswith('"')]
    launches = OrderedDict()  # ID -> {name, metrics}
    for row in csv.DictReader(lines):
        entry = launches.setdefault(row["ID"], {"name": row["Kernel Name"], "m": {}})
        entry["m"][row["Metric Name"]] = float(row["Metric Value"].replace(",", "") or 0)
    kernels = OrderedDict()
    for entry in launches.values():
        bare = entry["name"].replace("(anonymous namespace)::", "").replace("<unnamed>::", "")
        name = bare.split("(")[0].split("<")[0][:60]
        k = kernels.setdefault(name, [0, 0.0, 0.0, 0.0, 0.0, 0.0])
        k[0] += 1
        k[3] += entry["m"].get("smsp__inst_executed.sum", 0.0)
        k[4] = entry["m"].get("launch__registers_per_thread", 0.0)
        k[5] += entry["m"].get("sm__warps_active.avg.pct_of_peak_sustained_active", 0.0)
        k[1] += entry["m"].get("gpu__time_duration.sum", 0.0)
        k[2] += entry["m"].get("dram__bytes_read.sum", 0.0) + entry["m"].get("dram__bytes_write.sum", 0.0)
    total = sum(k[1] for k in kernels.values())
    for name, (count, ns, dram, inst, regs, occupancy) in kernels.items():
        print("%-60s %4dx %9.1f us (mean %7.1f)  DRAM %8.1f MB  %5.2f TB/s  %8.2f M warp instructions a launch"
              % (name, count, ns / 1e3, ns / 1e3 / count, dram / 1e6, dram / ns / 1e3 if ns else 0.0,
                 inst / 1e6 / count)
              + ("  %d registers, occupancy %.0f%%" % (regs, occupancy / count) if regs else ""))
    print("%-60s       %9.1f us  (kernels alone, serialised)" % ("sum", total / 1e3))


if __name__ == "__main__":
    main(sys.argv[1])
