"""The examples and the DDP script run as the README says, at small sizes on
the CPU (each in its own interpreter, outside the source tree)."""
import os
import pathlib
import subprocess
import sys

import pytest
import torch

ROOT = pathlib.Path(__file__).resolve().parent.parent


def _run(tmp_path, script, *args, timeout=300):
    proc = subprocess.run([sys.executable, str(ROOT / script)] + list(args), stdout=subprocess.PIPE,
                          stderr=subprocess.STDOUT, cwd=str(tmp_path), timeout=timeout,
                          env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    output = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, output
    return output


def test_substitute_layers(tmp_path):
    output = _run(tmp_path, "examples/substitute_layers.py", "--device", "cpu", "--size", "32", "--batch", "2")
    assert "swapped 3 layers: up.0, up.1, up.2" in output, output
    assert "converted model matches the original: True" in output, output


def test_kernelbench_71(tmp_path):
    output = _run(tmp_path, "examples/kernelbench_71.py", "--device", "cpu", "--batch", "2", "--height", "24",
                  "--width", "40", "--iters", "1")
    assert "weights identical to Model's: True" in output, output
    assert output.count(": pass (") == 5, output
    assert "ModelNew matches Model: True" in output, output


def test_kernelbench_71_problem_definition():
    """The file keeps KernelBench's interface and the problem's sizes."""
    namespace = {}
    exec(compile((ROOT / "examples/kernelbench_71.py").read_text(), "kernelbench_71.py", "exec"), namespace)
    assert namespace["get_init_inputs"]() == [32, 32, 3]
    assert (namespace["batch_size"], namespace["height_in"], namespace["width_in"]) == (8, 512, 1024)
    layer = namespace["Model"](*namespace["get_init_inputs"]()).conv_transpose2d
    assert type(layer) is torch.nn.ConvTranspose2d and layer.bias is None
    assert layer.kernel_size == (3, 3) and layer.stride == (1, 1) and layer.padding == (0, 0)


@pytest.mark.skipif(not torch.distributed.is_available(), reason="torch.distributed is not available")
def test_ddp_script_on_cpu_with_gloo(tmp_path):
    output = _run(tmp_path, "scripts/ddp_check.py", "--device", "cpu", "--steps", "3", "--size", "16", "--width",
                  "4", "--batch", "4")
    assert "2 processes (gloo)" in output and "converted model" in output, output
    assert output.rstrip().endswith("PASS"), output
