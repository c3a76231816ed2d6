"""The benchmark CLI: argument parsing, cost model and output formats, on tiny
CPU problems (timings themselves are not checked, only that they exist)."""
import csv
import json

import pytest
import torch
import torch.nn.functional as F

from gemm_convt._bench import cli, problems
from gemm_convt.bench import main

TINY = ["--in-channels", "6", "--out-channels", "4", "--kernel-size", "3,2", "--stride", "2x1", "--padding", "1",
        "--output-padding", "1,0", "--dilation", "1,2", "--groups", "2", "--batch", "2", "--input-size", "5,7",
        "--name", "tiny", "--warmup", "0", "--iters", "2"]


def test_custom_shape_parsed():
    args = cli.parse(TINY)
    (p,) = args.problems
    assert p == problems.Problem("tiny", 2, 6, 4, (3, 2), (5, 7), (2, 1), (1, 1), (1, 0), (1, 2), 2, True)
    assert args.dtypes == [torch.float32] and args.mode == "forward" and not args.models


def test_defaults_on_cpu():
    args = cli.parse(["--device", "cpu"])
    assert [p.name for p in args.problems] == ["cpu_small"]


def test_suite_models_and_dtypes():
    args = cli.parse(["--device", "cpu", "--suite", "--problem", "kb71", "--model", "unet", "--model", "dcgan",
                      "--dtype", "fp32,bf16", "--dtype", "half", "--dtype", "float32", "--mode", "train"])
    assert [p.name for p in args.problems] == problems.SUITE  # kb71 is in it once
    assert args.models == ["unet", "dcgan"]
    assert args.dtypes == [torch.float32, torch.bfloat16, torch.float16]
    assert args.mode == "train"


@pytest.mark.parametrize("argv, message", [
    (["--in-channels", "4", "--out-channels", "4"], "missing: --kernel-size, --input-size"),
    (TINY[:-6] + ["--groups", "3"] + TINY[-6:], "divisible by groups"),
    (TINY + ["--stride", "0"], "expected stride >= 1"),
    (TINY + ["--padding", "9"], "expected a positive output size"),
    (TINY + ["--kernel-size", "3,3,3"], "expected 1 or 2 values"),
    (TINY + ["--kernel-size", "three"], "expected an int or a pair"),
    (["--dtype", "fp8"], "expected dtypes among"),
    (["--json", "-", "--csv", "-"], "only one of --json and --csv"),
    (["--mode", "backward"], "invalid choice"),
    (["--model", "resnet"], "invalid choice"),
    (["--device", "tpu"], "--device"),
    (["--iters", "0"], "--iters >= 1"),
], ids=["incomplete-shape", "groups", "stride", "size", "pair-3", "pair-text", "dtype", "two-stdout", "mode",
        "model", "device", "iters"])
def test_bad_arguments_exit_2_with_a_message(argv, message, capsys):
    with pytest.raises(SystemExit) as exited:
        cli.parse(argv)
    assert exited.value.code == 2
    assert message in capsys.readouterr().err


def test_plot_without_matplotlib_is_refused_up_front(monkeypatch, capsys):
    import builtins
    real_import = builtins.__import__

    def no_matplotlib(name, *args, **kwargs):
        if name.startswith("matplotlib"):
            raise ImportError("no matplotlib here")
        return real_import(name, *args, **kwargs)
    monkeypatch.setattr(builtins, "__import__", no_matplotlib)
    with pytest.raises(SystemExit):
        cli.parse(["--plot", "x.png"])
    assert "--plot needs matplotlib" in capsys.readouterr().err


def test_costs_match_an_independent_count():
    p = cli.parse(TINY).problems[0]
    x = torch.randn(2, 6, 5, 7)
    w = torch.randn(6, 2, 3, 2)
    y = F.conv_transpose2d(x, w, torch.randn(4), **problems.call_kwargs(p))
    assert problems.output_size(p) == tuple(y.shape[-2:])
    c = problems.costs(p, 4)
    macs = 0  # multiply-adds of the direct definition: every input pixel times every tap of its group
    for _ in range(x.numel()):
        macs += 2 * 3 * 2  # Cout/groups x kh x kw
    assert c["flops"] == 2 * macs
    tensors = x.numel() + w.numel() + 4 + y.numel()
    assert c["problem_bytes"] == 4 * tensors
    columns = 2 * 5 * 7 * 4 * 3 * 2  # N·H·W·Cout·kh·kw
    assert c["columns_bytes"] == 4 * columns
    assert c["decomposition_bytes"] == 4 * (tensors + 2 * columns)
    t = problems.costs(p, 2, "train")
    assert t["flops"] == 3 * c["flops"] and t["problem_bytes"] == 2 * 2 * tensors
    assert t["decomposition_bytes"] == 2 * (2 * tensors + 5 * columns)


def test_forward_run_table_json_csv(tmp_path, capsys):
    out_json, out_csv = tmp_path / "r.json", tmp_path / "r.csv"
    assert main(TINY + ["--dtype", "float32,bfloat16", "--json", str(out_json), "--csv", str(out_csv)]) == 0
    captured = capsys.readouterr()
    assert "tiny (float32): N=2 6->4 k3x2 s2x1 p1 op1x0 d1x2 g2 5x7 -> 10x7" in captured.out
    assert "ceilings measured here: copy" in captured.out
    assert "[6/6" in captured.err and "[" not in captured.out.split("\n")[0]  # progress on stderr only
    data = json.loads(out_json.read_text())
    assert data["torch"] == torch.__version__ and data["mode"] == "forward"
    assert data["copy_bandwidth"] > 0 and set(data["gemm_rates"]) >= {"ieee", "bf16"}
    rows = data["rows"]
    assert [(r["dtype"], r["variant"]) for r in rows] == [
        (d, v) for d in ("float32", "bfloat16") for v in ("gemm_convt", "torch (mkldnn)", "torch own (no mkldnn)")]
    for r in rows:
        if r["error"] is not None:  # torch 1.13's CPU paths lack some bfloat16 kernels: reported, not fatal
            assert not r["ours"] and r["dtype"] == "bfloat16" and r["ms"] is None, r
            continue
        assert r["ms"] > 0
        assert r["rel_err"] < (1e-5 if r["dtype"] == "float32" else 1e-2), r
        assert r["problem_floor_ms"] > 0 and r["decomposition_floor_ms"] >= r["problem_floor_ms"]
        assert r["x_problem_floor"] == pytest.approx(r["ms"] / r["problem_floor_ms"])
    assert data["problems"]["tiny/float32"]["columns_bytes"] == 4 * 2 * 5 * 7 * 4 * 3 * 2
    with open(str(out_csv)) as f:
        table = list(csv.DictReader(f))
    assert [row["variant"] for row in table] == [r["variant"] for r in rows]
    assert float(table[0]["ms"]) == pytest.approx(rows[0]["ms"])


def test_json_to_stdout_replaces_the_table(capsys):
    assert main(TINY + ["--no-ceilings", "--quiet", "--json", "-"]) == 0
    captured = capsys.readouterr()
    data = json.loads(captured.out)
    assert data["copy_bandwidth"] is None and len(data["rows"]) == 3
    assert data["rows"][0]["problem_floor_ms"] is None
    assert captured.err == ""


def test_model_forward(capsys):
    assert main(["--model", "dcgan", "--batch", "2", "--input-size", "8", "--width", "4", "--warmup", "0",
                 "--iters", "1", "--quiet", "--csv", "-"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert [r["problem"] for r in rows] == ["dcgan-forward"] * 3
    for r in rows:
        assert r["error"] == "" and float(r["ms"]) > 0 and float(r["rel_err"]) < 1e-5, r


def test_layer_train_mode(tmp_path):
    out_json = tmp_path / "t.json"
    assert main(TINY + ["--mode", "train", "--no-ceilings", "--quiet", "--json", str(out_json)]) == 0
    rows = json.loads(out_json.read_text())["rows"]
    assert len(rows) == 3
    for r in rows:
        assert r["mode"] == "train" and r["error"] is None and r["rel_err"] < 1e-5, r


@pytest.mark.parametrize("model, size", [("dcgan", "8"), ("unet", "16x16")])
def test_model_train_step(model, size, capsys):
    assert main(["--model", model, "--mode", "train", "--batch", "2", "--input-size", size, "--width", "4",
                 "--warmup", "0", "--iters", "1", "--quiet", "--csv", "-"]) == 0
    rows = list(csv.DictReader(capsys.readouterr().out.splitlines()))
    assert len(rows) == 3
    for r in rows:
        assert r["error"] == "" and float(r["ms"]) > 0 and float(r["rel_err"]) < 1e-4, r


def test_plot(tmp_path):
    pytest.importorskip("matplotlib")
    png = tmp_path / "bench.png"
    assert main(TINY + ["--quiet", "--plot", str(png)]) == 0
    assert png.read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"


def test_channels_last_layers(tmp_path, capsys, monkeypatch):
    """--channels-last hands every path channels_last inputs (and grad_output in train mode);
    the results still match the float64 reference."""
    seen = []
    real = F.conv_transpose2d

    def spy(x, *a, **k):
        seen.append(x.is_contiguous(memory_format=torch.channels_last) and not x.is_contiguous())
        return real(x, *a, **k)

    monkeypatch.setattr(F, "conv_transpose2d", spy)
    for mode in ("forward", "train"):
        out_json = tmp_path / ("%s.json" % mode)
        assert main(TINY + ["--channels-last", "--mode", mode, "--no-ceilings", "--json", str(out_json)]) == 0
        data = json.loads(out_json.read_text())
        assert data["layout"] == "channels_last"
        for r in data["rows"]:
            assert r["error"] is None and r["rel_err"] < 1e-5, r
    assert "channels_last layers" in capsys.readouterr().out
    assert seen and all(seen), seen
