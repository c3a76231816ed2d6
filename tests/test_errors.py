"""Invalid arguments raise precise Python errors before any native code runs."""
import subprocess
import sys
import textwrap

import pytest
import torch
import torch.nn.functional as F

import gemm_convt
import gemm_convt.functional as gemm_convt_functional


def _base():
    gen = torch.Generator().manual_seed(301)
    return dict(
        input=torch.randn(2, 4, 5, 5, generator=gen),
        weight=torch.randn(4, 3, 3, 3, generator=gen),
        bias=torch.randn(3, generator=gen),
    )


def _call(fn, overrides):
    kwargs = _base()
    kwargs.update(overrides() if callable(overrides) else overrides)
    return fn(**kwargs)


def err(case_id, overrides, exc, match, torch_rejects=True):
    """torch_rejects: torch's F.conv_transpose2d also refuses these arguments
    (False where gemm_convt is deliberately stricter, e.g. integer dtypes)."""
    return pytest.param(overrides, exc, match, torch_rejects, id=case_id)


f64 = lambda name: lambda: {name: _base()[name].double()}  # noqa: E731

INVALID = [
    # tensors
    err("input-not-tensor", lambda: dict(input=_base()["input"].tolist()), TypeError, r"expected input to be a Tensor"),
    err("weight-not-tensor", lambda: dict(weight=_base()["weight"].tolist()), TypeError,
        r"expected weight to be a Tensor"),
    err("bias-not-tensor", dict(bias=[1.0, 2.0, 3.0]), TypeError, r"expected bias to be a Tensor or None"),
    err("input-2d", dict(input=torch.randn(4, 5)), ValueError, r"expected input to be 3-D .* or 4-D"),
    err("input-5d", dict(input=torch.randn(1, 2, 4, 5, 5)), ValueError, r"expected input to be 3-D .* or 4-D"),
    err("weight-3d", dict(weight=torch.randn(4, 3, 3)), ValueError, r"expected weight to be 4-D"),
    err("weight-5d", dict(weight=torch.randn(4, 3, 3, 3, 1)), ValueError, r"expected weight to be 4-D"),
    err("weight-no-in-channels", dict(input=torch.randn(2, 0, 5, 5), weight=torch.randn(0, 3, 3, 3)), ValueError,
        r"expected a non-empty weight .* but got weight of size \(0, 3, 3, 3\)"),
    err("weight-no-out-channels", dict(weight=torch.randn(4, 0, 3, 3), bias=None), ValueError,
        r"expected a non-empty weight .* but got weight of size \(4, 0, 3, 3\)"),
    err("channel-mismatch", dict(input=torch.randn(2, 5, 5, 5)), ValueError,
        r"expected input with 4 channels \(weight.size\(0\)\), but got 5"),
    err("channel-mismatch-unbatched", dict(input=torch.randn(3, 5, 5)), ValueError,
        r"expected input with 4 channels .* but got 3"),
    err("bias-wrong-length", dict(bias=torch.randn(4)), ValueError, r"expected bias of size \(3,\)"),
    err("bias-2d", dict(bias=torch.randn(3, 1)), ValueError, r"expected bias of size \(3,\)"),
    err("bias-0d", dict(bias=torch.tensor(1.0)), ValueError, r"expected bias of size \(3,\)"),
    err("bias-wrong-length-groups", dict(groups=2, weight=torch.randn(4, 3, 3, 3), bias=torch.randn(3)), ValueError,
        r"expected bias of size \(6,\)"),
    # dtypes
    err("weight-dtype", f64("weight"), TypeError, r"expected weight dtype torch.float32 \(the input's\), but got "
                                                  r"torch.float64"),
    err("bias-dtype", f64("bias"), TypeError, r"expected bias dtype torch.float32 \(the input's\), but got "
                                              r"torch.float64"),
    err("input-dtype-half-weight-float", lambda: dict(input=_base()["input"].half()), TypeError,
        r"expected weight dtype torch.float16"),
    err("int64", lambda: {k: v.long() for k, v in _base().items()}, TypeError,
        r"expected input dtype float32, float64, float16 or bfloat16, but got torch.int64", torch_rejects=False),
    err("complex64", lambda: {k: v.to(torch.complex64) for k, v in _base().items()}, TypeError,
        r"expected input dtype .* but got torch.complex64", torch_rejects=False),
    # groups
    err("groups-not-dividing", dict(groups=3), ValueError, r"expected weight.size\(0\) = 4 divisible by groups = 3"),
    err("groups-0", dict(groups=0), ValueError, r"expected groups > 0, but got 0"),
    err("groups-negative", dict(groups=-2), ValueError, r"expected groups > 0, but got -2"),
    err("groups-float", dict(groups=1.0), TypeError, r"expected groups to be an int"),
    err("groups-str", dict(groups="1"), TypeError, r"expected groups to be an int"),
    err("groups-bool", dict(groups=True), TypeError, r"expected groups to be an int"),
    # stride / dilation / padding values
    err("stride-0", dict(stride=0), ValueError, r"expected stride >= 1 in each dimension, but got \(0, 0\)"),
    err("stride-negative", dict(stride=(1, -2)), ValueError, r"expected stride >= 1 .* \(1, -2\)"),
    err("dilation-0", dict(dilation=(0, 1)), ValueError, r"expected dilation >= 1 .* \(0, 1\)"),
    err("dilation-negative", dict(dilation=-1), ValueError, r"expected dilation >= 1"),
    err("padding-negative", dict(padding=(0, -1)), ValueError, r"expected padding >= 0 .* \(0, -1\)"),
    err("output-padding-eq-stride", dict(stride=2, output_padding=2), ValueError,
        r"expected output_padding in \[0, max\(stride, dilation\)\) = \[0, 2\)"),
    err("output-padding-eq-dilation", dict(stride=1, dilation=(3, 1), output_padding=(3, 0)), ValueError,
        r"expected output_padding in .* = \[0, 3\) in dimension 0"),
    err("output-padding-stride-1", dict(output_padding=(0, 1)), ValueError,
        r"expected output_padding in .* = \[0, 1\) in dimension 1"),
    err("output-padding-negative", dict(stride=2, output_padding=-1), ValueError, r"expected output_padding in"),
    # forms
    err("stride-3-values", dict(stride=(1, 2, 3)), ValueError, r"expected stride to have 1 or 2 values, but got 3"),
    err("padding-0-values", dict(padding=()), ValueError, r"expected padding to have 1 or 2 values, but got 0"),
    err("dilation-3-values", dict(dilation=[1, 1, 1]), ValueError, r"expected dilation to have 1 or 2 values"),
    err("output-padding-3-values", dict(output_padding=(0, 0, 0)), ValueError,
        r"expected output_padding to have 1 or 2 values"),
    err("stride-float", dict(stride=2.0), TypeError, r"expected stride to be an int or a pair of ints"),
    err("stride-str", dict(stride="2"), TypeError, r"expected stride to be an int or a pair of ints"),
    err("stride-bool", dict(stride=True), TypeError, r"expected stride to be an int or a pair of ints"),
    err("stride-float-entry", dict(stride=(1.5, 2)), TypeError, r"expected stride to contain ints"),
    err("padding-bool-entry", dict(padding=(True, 1)), TypeError, r"expected padding to contain ints"),
    err("dilation-none", dict(dilation=None), TypeError, r"expected dilation to be an int or a pair of ints"),
    err("output-padding-float-entry", dict(output_padding=[0.0]), TypeError, r"expected output_padding to contain"),
    # resulting size
    err("output-size-negative", dict(padding=10), ValueError, r"expected a positive output size"),
    err("output-size-zero", dict(input=torch.randn(2, 4, 1, 1), weight=torch.randn(4, 3, 1, 1), bias=torch.randn(3),
                                 padding=(0, 1)), ValueError, r"expected a positive output size, but got \(1, -1\)"),
]


class _NativeMustNotRun:
    """Stands in for torch.ops.gemm_convt: any call of the operator fails."""

    def __getattr__(self, name):
        def call(*args, **kwargs):
            raise AssertionError("native code reached with invalid arguments")
        return call


@pytest.mark.parametrize("overrides, exc, match, torch_rejects", INVALID)
def test_invalid_arguments(overrides, exc, match, torch_rejects, monkeypatch):
    with monkeypatch.context() as patch:
        patch.setattr(gemm_convt_functional, "_ops", _NativeMustNotRun())
        with torch.no_grad(), pytest.raises(exc, match=r"conv_transpose2d: " + match) as raised:
            _call(gemm_convt.conv_transpose2d, overrides)
    # Catchable the way torch's own argument errors are caught, too.
    assert isinstance(raised.value, RuntimeError) and isinstance(raised.value, gemm_convt.ArgumentError)
    if torch_rejects:
        with torch.no_grad(), pytest.raises((RuntimeError, TypeError, ValueError)):
            _call(F.conv_transpose2d, overrides)


def test_valid_base_call_works(monkeypatch):
    # The invalid cases above are single changes to this valid call ...
    with torch.no_grad():
        out = _call(gemm_convt.conv_transpose2d, {})
    assert out.shape == (2, 3, 7, 7) and torch.isfinite(out).all()
    # ... which does reach the (here replaced) native code.
    monkeypatch.setattr(gemm_convt_functional, "_ops", _NativeMustNotRun())
    with torch.no_grad(), pytest.raises(AssertionError, match="native code reached"):
        _call(gemm_convt.conv_transpose2d, {})


def test_grad_mode_is_irrelevant_without_requires_grad():
    assert torch.is_grad_enabled()
    out = gemm_convt.conv_transpose2d(**_base())  # nothing requires grad: no graph
    assert out.shape == (2, 3, 7, 7) and out.grad_fn is None and not out.requires_grad


@pytest.mark.skipif(not torch.cuda.is_available(), reason="device mismatch needs a CUDA device")
@pytest.mark.parametrize("moved", ["weight", "bias"])
def test_device_mismatch(moved):
    kwargs = _base()
    kwargs[moved] = kwargs[moved].cuda()
    with torch.no_grad(), pytest.raises(ValueError, match=r"expected %s on device cpu" % moved):
        gemm_convt.conv_transpose2d(**kwargs)


# Zero-sized spatial dims or kernels: torch raises RuntimeError; a crash here
# (e.g. a division by zero in the native chunk planner) would take the whole
# test process down, so each call runs in a child interpreter.
ZERO_EXTENT = [
    pytest.param("torch.randn(1, 4, 0, 5)", "torch.randn(4, 3, 3, 3)", id="input-height-0"),
    pytest.param("torch.randn(2, 4, 4, 0)", "torch.randn(4, 3, 3, 3)", id="input-width-0"),
    pytest.param("torch.randn(4, 0, 5)", "torch.randn(4, 3, 3, 3)", id="unbatched-input-height-0"),
    pytest.param("torch.randn(2, 4, 4, 4)", "torch.randn(4, 3, 0, 3)", id="kernel-height-0"),
]


@pytest.mark.parametrize("x_expr, w_expr", ZERO_EXTENT)
def test_zero_spatial_extent_raises_instead_of_crashing(x_expr, w_expr, tmp_path):
    script = textwrap.dedent("""
        import sys, torch, torch.nn.functional as F, gemm_convt
        x, w = {x}, {w}
        try:
            F.conv_transpose2d(x, w)
        except RuntimeError:
            pass
        else:
            sys.exit(3)  # torch accepts it: the test premise is wrong
        try:
            with torch.no_grad():
                out = gemm_convt.conv_transpose2d(x, w)
        except (ValueError, RuntimeError) as exc:
            print("raised", type(exc).__name__, exc)
            sys.exit(0)
        print("returned", tuple(out.shape))
        sys.exit(4)
    """).format(x=x_expr, w=w_expr)
    proc = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          cwd=str(tmp_path), timeout=120)  # not the source tree: import the installed package
    output = proc.stdout.decode(errors="replace")
    assert proc.returncode != 3, "torch accepts this input; fix the test"
    assert proc.returncode >= 0, "gemm_convt crashed with signal %d on input %s, weight %s" % (
        -proc.returncode, x_expr, w_expr)
    assert proc.returncode == 0, output


# --- settings ----------------------------------------------------------------


@pytest.mark.parametrize("value, exc", [(0, ValueError), (-1, ValueError), ("x", TypeError), (1.5, TypeError),
                                        (True, TypeError)], ids=["0", "-1", "str", "float", "bool"])
def test_set_workspace_limit_invalid(value, exc):
    before = gemm_convt.get_workspace_limit()
    with pytest.raises(exc, match="set_workspace_limit: expected num_bytes"):
        gemm_convt.set_workspace_limit(value)
    with pytest.raises(RuntimeError, match="set_workspace_limit: expected num_bytes"):
        gemm_convt.set_workspace_limit(value)
    assert gemm_convt.get_workspace_limit() == before


def test_set_workspace_limit_valid():
    gemm_convt.set_workspace_limit(12345)
    assert gemm_convt.get_workspace_limit() == 12345
    gemm_convt.set_workspace_limit(1)
    assert gemm_convt.get_workspace_limit() == 1
    gemm_convt.set_workspace_limit(None)
    assert gemm_convt.get_workspace_limit() == 64 * 1024 * 1024


@pytest.mark.parametrize("value", ["yes", 1, 0, 1.0], ids=["str", "int-1", "int-0", "float"])
def test_set_allow_tf32_invalid(value):
    before = gemm_convt.get_allow_tf32()
    with pytest.raises(TypeError, match="set_allow_tf32: expected allow to be None or bool"):
        gemm_convt.set_allow_tf32(value)
    with pytest.raises(RuntimeError, match="set_allow_tf32: expected allow to be None or bool"):
        gemm_convt.set_allow_tf32(value)
    assert gemm_convt.get_allow_tf32() == before


def test_set_allow_tf32_valid():
    gemm_convt.set_allow_tf32(True)
    assert gemm_convt.get_allow_tf32() is True
    gemm_convt.set_allow_tf32(False)
    assert gemm_convt.get_allow_tf32() is False
    gemm_convt.set_allow_tf32(None)  # float32-accurate whatever cudnn allows (restored by the fixture)
    for flag in (True, False):
        torch.backends.cudnn.allow_tf32 = flag
        assert gemm_convt.get_allow_tf32() is False
