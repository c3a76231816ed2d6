"""PyTorch's own OpInfo samples for nn.functional.conv_transpose2d, checked the way
torch's test_ops.py checks the op itself, with gemm_convt standing in for it and the
default float32 policy (torch.backends.cudnn.allow_tf32 left True, gemm_convt's
set_allow_tf32(None)):
  - test_numpy_ref: against a float64 reference at float32's default tolerance in
    torch.testing (rtol 1.3e-6, atol 1e-5; float64: 1e-7, 1e-7);
  - test_compare_cpu: the CUDA result against torch's CPU result, atol = rtol = 1e-3.
With plain TF32 these failed (max deviation ~3e-4 of the output's scale, issue 6)."""
import subprocess
import sys

import pytest
import torch
import torch.nn.functional as F

import gemm_convt

DEVICES = ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")])]
DEFAULT_TOLERANCE = {torch.float32: (1.3e-6, 1e-5), torch.float64: (1e-7, 1e-7)}  # (rtol, atol)

# Importing torch.testing._internal changes global state (it locks torch.backends' flags),
# so the samples are made in a child process and saved. expecttest, a test-only dependency
# of that package, is stubbed where missing: only its TestCase base and ACCEPT flag are read.
MAKE_SAMPLES = r"""
import sys, types, unittest
try:
    import expecttest
except ImportError:
    stub = types.ModuleType("expecttest")
    stub.TestCase, stub.ACCEPT = unittest.TestCase, False
    sys.modules["expecttest"] = stub
import torch
from torch.testing._internal.common_methods_invocations import op_db
op = next(o for o in op_db if o.name == "nn.functional.conv_transpose2d")
cases = {}
for dtype in (torch.float32, torch.float64):
    cases[str(dtype)] = [(s.input, s.args[0], s.args[1] if len(s.args) > 1 else None, dict(s.kwargs))
                         for s in op.reference_inputs("cpu", dtype)]
torch.save(cases, sys.argv[1])
"""


@pytest.fixture(scope="module")
def opinfo_cases(tmp_path_factory):
    path = tmp_path_factory.mktemp("opinfo") / "cases.pt"
    made = subprocess.run([sys.executable, "-c", MAKE_SAMPLES, str(path)], capture_output=True, text=True)
    if made.returncode != 0:
        if "ModuleNotFoundError" in made.stderr:  # e.g. torch 1.13's OpInfo module needs PyYAML
            pytest.skip("torch's OpInfo database cannot be imported here: " + made.stderr.strip().splitlines()[-1])
        raise AssertionError(made.stderr)
    return torch.load(str(path))


def prefer(path):
    gemm_convt.set_direct_gather({"auto": None, "gather": True}.get(path, False))
    gemm_convt.set_implicit_gemm({"auto": None, "implicit": True}.get(path, False))


def to(tensor, device, dtype=None):
    return None if tensor is None else tensor.to(device=device, dtype=dtype or tensor.dtype)


@pytest.mark.parametrize("path", ["auto", "gemm", "gather", "implicit"])
@pytest.mark.parametrize("dtype", [torch.float32, torch.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("device", DEVICES)
def test_opinfo_samples(opinfo_cases, device, dtype, path):
    rtol, atol = DEFAULT_TOLERANCE[dtype]
    prefer(path)
    cases = opinfo_cases[str(dtype)]
    assert len(cases) >= 10
    for x, weight, bias, geometry in cases:
        with torch.no_grad():
            ours = gemm_convt.conv_transpose2d(to(x, device), to(weight, device), to(bias, device), **geometry)
        reference = F.conv_transpose2d(to(x, "cpu", torch.float64), to(weight, "cpu", torch.float64),
                                       to(bias, "cpu", torch.float64), **geometry)
        assert ours.dtype == dtype and ours.device.type == device
        torch.testing.assert_close(ours.cpu().double(), reference, rtol=rtol, atol=atol)
        if device == "cuda":  # test_compare_cpu
            torch.testing.assert_close(ours.cpu(), F.conv_transpose2d(x, weight, bias, **geometry),
                                       rtol=1e-3, atol=1e-3)
