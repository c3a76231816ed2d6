"""Argument errors are catchable the way torch's are (RuntimeError) as well as
the Python way (ValueError/TypeError), on every public path."""
import pathlib
import re

import pytest
import torch
import torch.nn.functional as F

import gemm_convt


def test_class_hierarchy():
    assert issubclass(gemm_convt.ArgumentError, RuntimeError)
    for cls, python_base in ((gemm_convt.ArgumentValueError, ValueError),
                             (gemm_convt.ArgumentTypeError, TypeError)):
        assert issubclass(cls, gemm_convt.ArgumentError)
        assert issubclass(cls, RuntimeError) and issubclass(cls, python_base)
    assert not issubclass(gemm_convt.ArgumentValueError, TypeError)
    assert not issubclass(gemm_convt.ArgumentTypeError, ValueError)


# Mirrors PyTorch's test_convolution.py::test_conv_modules_raise_error_on_incorrect_input_size
# for the 2-D transposed module: 2-D and 5-D inputs must raise RuntimeError, in every dtype.
@pytest.mark.parametrize("dtype", [torch.half, torch.bfloat16, torch.double, torch.float],
                         ids=["half", "bfloat16", "double", "float"])
@pytest.mark.parametrize("make", ["module", "converted"])
def test_conv_modules_raise_error_on_incorrect_input_size(dtype, make):
    if make == "module":
        module = gemm_convt.ConvTranspose2d(3, 8, 3).to(dtype)
    else:
        module = gemm_convt.convert(torch.nn.Sequential(torch.nn.ConvTranspose2d(3, 8, 3))).to(dtype)
    for dims in (2, 5):
        x = torch.randn(torch.Size((3,) * dims))
        with pytest.raises(RuntimeError, match="expected input to be 3-D"):
            module(x)  # grad mode on and parameters requiring grad, as in torch's test
        with pytest.raises(RuntimeError):
            torch.nn.ConvTranspose2d(3, 8, 3).to(dtype)(x)  # torch agrees


def _torch_style_caller(fn):
    """Code written against torch: argument errors are RuntimeErrors."""
    def call(*args, **kwargs):
        try:
            with torch.no_grad():
                return fn(*args, **kwargs)
        except RuntimeError as exc:
            return "caught: %s" % exc
    return call


@pytest.mark.parametrize("fn", [F.conv_transpose2d, gemm_convt.conv_transpose2d], ids=["torch", "gemm_convt"])
@pytest.mark.parametrize("kwargs", [
    dict(weight=torch.randn(5, 3, 3, 3)),                 # channel mismatch
    dict(bias=torch.randn(4)),                            # bias length
    dict(stride=0),                                       # stride value
    dict(groups=3),                                       # groups not dividing
    dict(weight=torch.randn(4, 3, 3, 3).double()),        # dtype mismatch
    dict(stride=2, output_padding=2),                     # output_padding range
    dict(padding=10),                                     # negative output size
], ids=["channels", "bias", "stride", "groups", "dtype", "output_padding", "size"])
def test_caught_like_torch(fn, kwargs):
    gen = torch.Generator().manual_seed(401)
    args = dict(input=torch.randn(2, 4, 5, 5, generator=gen), weight=torch.randn(4, 3, 3, 3, generator=gen),
                bias=torch.randn(3, generator=gen))
    args.update(kwargs)
    result = _torch_style_caller(fn)(**args)
    assert isinstance(result, str) and result.startswith("caught: "), result


def _module_cases():
    x = torch.randn(2, 4, 5, 5)

    def reflect():
        m = gemm_convt.ConvTranspose2d(4, 3, 3)
        m.padding_mode = "reflect"
        return m(x)

    m = gemm_convt.ConvTranspose2d(4, 3, 3, stride=2)
    return [
        ("padding_mode", reflect, ValueError),
        ("output_size-range", lambda: m(x, output_size=(40, 40)), ValueError),
        ("output_size-length", lambda: m(x, output_size=(11,)), ValueError),
        ("output_size-type", lambda: m(x, output_size=11), TypeError),
        ("output_size-entries", lambda: m(x, output_size=(11.0, 11)), TypeError),
        ("input-not-tensor", lambda: m(x.tolist(), output_size=(11, 11)), TypeError),
        ("convert", lambda: gemm_convt.convert("not a module"), TypeError),
        ("set_allow_tf32", lambda: gemm_convt.set_allow_tf32(1), TypeError),
        ("set_workspace_limit-type", lambda: gemm_convt.set_workspace_limit(1.5), TypeError),
        ("set_workspace_limit-value", lambda: gemm_convt.set_workspace_limit(0), ValueError),
    ]


@pytest.mark.parametrize("case", _module_cases(), ids=lambda c: c[0])
def test_every_path_raises_both(case):
    _, call, python_exc = case
    with torch.no_grad():
        with pytest.raises(python_exc) as raised:
            call()
    assert isinstance(raised.value, RuntimeError)
    assert isinstance(raised.value, gemm_convt.ArgumentError)


def test_no_plain_value_or_type_errors_in_the_library():
    """A new check that raises a bare ValueError/TypeError would slip past
    `except RuntimeError` in torch-style code; the library must not have one."""
    package = pathlib.Path(gemm_convt.__file__).parent
    offenders = []
    for path in sorted(package.glob("*.py")):
        if path.name.startswith("bench"):  # the CLI reports through argparse
            continue
        if path.name == "_script.py":  # TorchScript raises only builtins (surfacing as torch.jit.Error)
            continue
        for number, line in enumerate(path.read_text().splitlines(), 1):
            if re.search(r"\braise (ValueError|TypeError)\b", line):
                offenders.append("%s:%d: %s" % (path.name, number, line.strip()))
    assert not offenders, "\n".join(offenders)
