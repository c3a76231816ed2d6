"""Command line of `python -m gemm_convt.bench` (see gemm_convt/bench.py)."""
import argparse
import sys

import torch

import gemm_convt

from . import ceilings as C
from . import report
from .model_run import MODELS, run_model
from .problems import PROBLEMS, SUITE, problem
from .progress import Progress
from .run import run_layer
from .variants import variants

DTYPES = {"float32": torch.float32, "fp32": torch.float32, "float": torch.float32,
          "float16": torch.float16, "fp16": torch.float16, "half": torch.float16,
          "bfloat16": torch.bfloat16, "bf16": torch.bfloat16,
          "float64": torch.float64, "fp64": torch.float64, "double": torch.float64}
SHAPE_ARGS = ("in_channels", "out_channels", "kernel_size", "input_size")


def int_pair(text):
    """'3' -> 3, '3,5' or '3x5' -> (3, 5)."""
    parts = text.replace("x", ",").split(",")
    try:
        values = [int(v) for v in parts]
    except ValueError:
        raise argparse.ArgumentTypeError("expected an int or a pair like 3,5 or 3x5, but got %r" % text)
    if len(values) not in (1, 2):
        raise argparse.ArgumentTypeError("expected 1 or 2 values, but got %d in %r" % (len(values), text))
    return values[0] if len(values) == 1 else tuple(values)


def dtype_list(text):
    names = [t.strip() for t in text.split(",") if t.strip()]
    for name in names:
        if name not in DTYPES:
            raise argparse.ArgumentTypeError("expected dtypes among %s, but got %r" % (", ".join(sorted(DTYPES)), name))
    return names


def build_parser(description):
    parser = argparse.ArgumentParser(prog="python -m gemm_convt.bench", description=description,
                                     formatter_class=argparse.RawDescriptionHelpFormatter)
    what = parser.add_argument_group("what to run (default: kb71 on CUDA, cpu_small on the CPU)")
    what.add_argument("--problem", action="append", choices=sorted(PROBLEMS), help="a named problem (repeatable)")
    what.add_argument("--suite", action="store_true", help="the ten-problem suite: " + " ".join(SUITE))
    what.add_argument("--model", action="append", choices=sorted(MODELS),
                      help="a whole model, original vs converted (repeatable)")
    shape = parser.add_argument_group(
        "a shape of your own: nn.ConvTranspose2d's arguments plus batch and input size (pairs as 3,5 or 3x5)")
    shape.add_argument("--in-channels", type=int)
    shape.add_argument("--out-channels", type=int)
    shape.add_argument("--kernel-size", type=int_pair)
    shape.add_argument("--stride", type=int_pair, default=1)
    shape.add_argument("--padding", type=int_pair, default=0)
    shape.add_argument("--output-padding", type=int_pair, default=0)
    shape.add_argument("--dilation", type=int_pair, default=1)
    shape.add_argument("--groups", type=int, default=1)
    shape.add_argument("--no-bias", action="store_true", help="bias=False")
    shape.add_argument("--batch", type=int, help="batch size (default 1; for --model the model's default)")
    shape.add_argument("--input-size", type=int_pair,
                       help="input H,W (for --model: the image size, dcgan's output or the U-Net's input)")
    shape.add_argument("--width", type=int, help="--model only: the model's base channel width")
    shape.add_argument("--name", default="custom", help="label of the shape in the output")
    how = parser.add_argument_group("how")
    how.add_argument("--mode", choices=["forward", "train"], default="forward",
                     help="forward (no grad), or train: forward + backward of the layer / one training step of a "
                          "model")
    how.add_argument("--dtype", type=dtype_list, action="append",
                     help="float32 (TF32 and strict side by side on CUDA), bfloat16, float16, float64; "
                          "comma-separated or repeated (default float32)")
    how.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    how.add_argument("--channels-last", action="store_true",
                     help="layers only: inputs (and train mode's grad_output) in channels_last memory format")
    how.add_argument("--warmup", type=int, default=5)
    how.add_argument("--iters", type=int, default=30, help="timed runs; the median is reported")
    how.add_argument("--no-ceilings", action="store_true", help="skip measuring bandwidth and GEMM rates")
    how.add_argument("--quiet", action="store_true", help="no progress display on stderr")
    out = parser.add_argument_group("output (the table goes to stdout)")
    out.add_argument("--json", metavar="FILE", help="write everything as JSON ('-': stdout, instead of the table)")
    out.add_argument("--csv", metavar="FILE", help="write the rows as CSV ('-': stdout, instead of the table)")
    out.add_argument("--plot", metavar="FILE.png",
                     help="plot time vs cuDNN / torch's own path and fraction of the floor (needs matplotlib: "
                          "pip install 'gemm_convt[plot]')")
    return parser


def parse(argv, description=""):
    parser = build_parser(description)
    args = parser.parse_args(argv)
    args.dtypes = [DTYPES[n] for names in (args.dtype or [["float32"]]) for n in names]
    args.dtypes = list(dict.fromkeys(args.dtypes))  # unique, in order
    try:
        args.device = torch.device(args.device)
    except RuntimeError as exc:
        parser.error("--device: %s" % exc)
    if args.device.type not in ("cpu", "cuda"):
        parser.error("--device: expected cpu or cuda, but got %s" % args.device)
    if args.device.type == "cuda" and not torch.cuda.is_available():
        parser.error("--device cuda: no CUDA device is available")
    if args.warmup < 0 or args.iters < 1:
        parser.error("expected --warmup >= 0 and --iters >= 1, but got %d and %d" % (args.warmup, args.iters))
    if args.json == "-" and args.csv == "-":
        parser.error("only one of --json and --csv can go to stdout")
    given = [name for name in SHAPE_ARGS if getattr(args, name) is not None]
    args.problems = [PROBLEMS[n] for n in (SUITE if args.suite else [])] + [PROBLEMS[n] for n in args.problem or []]
    if given and len(given) < len(SHAPE_ARGS) and not (args.model and given == ["input_size"]):
        parser.error("a shape needs --%s (missing: %s)" % (
            ", --".join(a.replace("_", "-") for a in SHAPE_ARGS),
            ", ".join("--" + a.replace("_", "-") for a in SHAPE_ARGS if a not in given)))
    if len(given) == len(SHAPE_ARGS):
        try:
            args.problems.append(problem(
                args.name, 1 if args.batch is None else args.batch, args.in_channels, args.out_channels,
                args.kernel_size, args.input_size, args.stride, args.padding, args.output_padding, args.dilation,
                args.groups, not args.no_bias))
        except (ValueError, TypeError) as exc:
            parser.error("invalid shape: %s" % exc)
    args.models = list(dict.fromkeys(args.model or []))
    if args.models and isinstance(args.input_size, tuple) and len(set(args.input_size)) != 1:
        parser.error("--model takes one --input-size (square images), but got %s" % (args.input_size,))
    args.model_size = args.input_size[0] if isinstance(args.input_size, tuple) else args.input_size
    if not args.problems and not args.models:
        args.problems = [PROBLEMS["kb71" if args.device.type == "cuda" else "cpu_small"]]
    args.problems = list(dict.fromkeys(args.problems))
    if args.plot:
        try:
            import matplotlib  # noqa: F401
        except ImportError:
            parser.error("--plot needs matplotlib: pip install matplotlib (or the package's [plot] extra)")
    return args


def main(argv=None, description=""):
    args = parse(argv, description)
    device = args.device
    table = sys.stdout if "-" not in (args.json, args.csv) else None
    emit = (lambda line: print(line, file=table, flush=True)) if table else (lambda line: None)
    steps = sum(len(variants(device, d)) for d in args.dtypes) * (len(args.problems) + len(args.models))
    progress = Progress(steps, enabled=not args.quiet)
    where = (torch.cuda.get_device_name(device) if device.type == "cuda"
             else "CPU (%d threads)" % torch.get_num_threads())
    layout = "channels_last" if args.channels_last else "contiguous"
    meta = dict(gemm_convt=gemm_convt.__version__, torch=torch.__version__, cuda=torch.version.cuda, device=where,
                mode=args.mode, warmup=args.warmup, iters=args.iters, layout=layout)
    emit("gemm_convt %s | torch %s | %s | mode %s%s | median of %d after %d warm-up" % (
        gemm_convt.__version__, torch.__version__, where, args.mode,
        " | channels_last layers" if args.channels_last else "", args.iters, args.warmup))
    ceilings = None
    if not args.no_ceilings and args.problems:
        precisions = list(dict.fromkeys(p for d in args.dtypes for p in C.precisions_for(d, device)))
        ceilings = C.measure(device, precisions, progress)
    emit(report.ceilings_line(ceilings))
    emit(report.legend())
    problems, rows = {}, []
    for dtype in args.dtypes:
        dname = str(dtype).replace("torch.", "")
        for p in args.problems:
            info, new = run_layer(p, dtype, device, args.mode, args.warmup, args.iters, ceilings, progress,
                                  channels_last=args.channels_last)
            problems["%s/%s" % (p.name, dname)] = info
            _emit_block(emit, p.name, dname, info, new, progress)
            rows += new
        for name in args.models:
            label, info, new = run_model(name, dtype, device, args.mode, args.warmup, args.iters,
                                         args.batch, args.model_size, args.width, progress)
            problems["%s/%s" % (label, dname)] = info
            _emit_block(emit, label, dname, info, new, progress)
            rows += new
    progress.close()
    if args.json:
        report.write_json(sys.stdout if args.json == "-" else args.json, meta, ceilings, problems, rows)
    if args.csv:
        report.write_csv(sys.stdout if args.csv == "-" else args.csv, rows)
    if args.plot:
        report.plot(args.plot, rows, "gemm_convt %s, torch %s, %s, %s" % (
            gemm_convt.__version__, torch.__version__, where, args.mode))
    failed = [r for r in rows if r["ours"] and r["error"]]
    for r in failed:
        print("gemm_convt failed on %s %s (%s): %s" % (r["problem"], r["dtype"], r["variant"], r["error"]),
              file=sys.stderr)
    return 1 if failed else 0


def _emit_block(emit, name, dname, info, rows, progress):
    progress.close()  # clear the progress line before the table continues on a terminal
    emit("")
    emit(report.problem_line(name, dname, info))
    emit(report.HEADER)
    for r in rows:
        emit(report.row_line(r))
