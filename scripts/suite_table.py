"""The suite side by side, one row a problem, from a `gemm_convt.bench --json` file: float32
(ours TF32 / cuDNN TF32, ours strict by the default rule, IEEE and split / cuDNN strict, torch's
own) or a half type (ours / cuDNN / torch's own), each with its ratio. Markdown on stdout.

    python scripts/suite_table.py bench_float32.json
"""
import json
import sys

from target_bounds import CUDNN, DEFAULT, IEEE, OWN, SPLIT, STRICT, TF32  # scripts/ is on sys.path

FLOAT32 = [TF32, CUDNN, DEFAULT, IEEE, SPLIT, STRICT, OWN]
HALF = ["gemm_convt", "cuDNN", OWN]


def main(path):
    by_problem = {}
    for row in json.load(open(path))["rows"]:
        by_problem.setdefault(row["problem"], {})[row["variant"]] = row
    for problem, rows in by_problem.items():
        ms = {variant: row["ms"] for variant, row in rows.items()}
        if FLOAT32[0] in ms:
            if problem == next(iter(by_problem)):
                print("| problem | ours TF32 | cuDNN TF32 | ratio | ours fp32 default | IEEE | split | cuDNN strict "
                      "| ratio | torch own | own ÷ ours default | extra MiB (default) |")
                print("|---|---|---|---|---|---|---|---|---|---|---|---|")
            tf32, cudnn_tf32, default, ieee, split, strict, own = (ms[v] for v in FLOAT32)
            print("| %s | %.3f | %.3f | %.2f | %.3f | %.3f | %.3f | %.3f | %.2f | %.3f | %.2f | %d |" % (
                problem, tf32, cudnn_tf32, cudnn_tf32 / tf32, default, ieee, split, strict, strict / default, own,
                own / default, round(rows[FLOAT32[2]]["extra_mib"])))
        else:
            if problem == next(iter(by_problem)):
                print("| problem | ours | cuDNN | ratio | torch own | own ÷ ours | extra MiB |")
                print("|---|---|---|---|---|---|---|")
            ours, cudnn, own = (ms[v] for v in HALF)
            print("| %s | %.3f | %.3f | %.2f | %.3f | %.2f | %d |" % (
                problem, ours, cudnn, cudnn / ours, own, own / ours, round(rows[HALF[0]]["extra_mib"])))


if __name__ == "__main__":
    main(sys.argv[1])
