"""Benchmark gemm_convt against torch's cuDNN path and torch's own GEMM+col2im
path, side by side in one process, with the ceilings and floors that say how
far each is from what the hardware allows.

    python -m gemm_convt.bench                       # kb71 on CUDA, cpu_small on the CPU
    python -m gemm_convt.bench --suite --dtype float32,bfloat16 --json out.json --plot out.png
    python -m gemm_convt.bench --in-channels 64 --out-channels 32 --kernel-size 4 --stride 2 \\
        --padding 1 --batch 16 --input-size 64,64 --mode train
    python -m gemm_convt.bench --model unet --mode train --dtype bfloat16

Times are medians of per-iteration CUDA-event timings after warm-up (wall
clock on the CPU), inputs rotating among copies. Measured in the same process:
copy bandwidth, GEMM rate per precision and the rate at which a GEMM writes a
columns buffer. Per problem, two floors: the problem's own (every tensor moved
once, or its flops at the GEMM rate, whichever is longer) and the
decomposition's (the same plus the columns buffer written and read once).
"extra MiB" is the peak device memory a path allocates beyond its inputs and
results; "rel err" is against float64 on the same inputs. Progress goes to
stderr, the table to stdout.
"""
from ._bench.cli import main as _main


def main(argv=None):
    return _main(argv, __doc__)


if __name__ == "__main__":
    raise SystemExit(main())
