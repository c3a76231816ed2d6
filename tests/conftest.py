"""Shared helpers for the gemm_convt CPU test suite.

Every correctness check compares against torch.nn.functional.conv_transpose2d
computed in float64 on the very same input values (for float16/bfloat16 the
already-rounded low-precision values, upcast exactly to float64).

The suite runs under ``--import-mode=importlib``, so test modules cannot
import this file: the helpers are handed out through the ``helpers`` fixture
(a namespace of plain functions) and the ``dtype`` fixture.
"""
import types

import pytest
import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt import _settings
from gemm_convt._native import _C

# Tolerance per dtype, used twice by assert_close_to_reference:
#   ||out - ref|| / ||ref||              <= TOL[dtype]
#   |out - ref| <= TOL[dtype] * (|ref| + max|ref|)      (elementwise)
# float64 / float32: accumulation error only.  bfloat16 (unit roundoff 2**-8)
# and float16 (2**-11): one rounding of the float32 result at the output.
TOL_FLOAT64 = 1e-12
TOL_FLOAT32 = 1e-5
TOL_BFLOAT16 = 1e-2
TOL_FLOAT16 = 2e-3
TOL = {
    torch.float64: TOL_FLOAT64,
    torch.float32: TOL_FLOAT32,
    torch.bfloat16: TOL_BFLOAT16,
    torch.float16: TOL_FLOAT16,
}
DTYPES = (torch.float64, torch.float32, torch.bfloat16, torch.float16)

# torch >= 2 keeps channels_last for CPU conv_transpose2d; torch 1.13's CPU
# kernel always returns NCHW-contiguous output, so layout comparisons against
# torch itself are only meaningful from 2.0 on (the documented rule -- the
# output is channels_last when the input or the weight is -- is checked on
# every version where the test says so).
TORCH_MAJOR = int(torch.__version__.split(".")[0])
TORCH_KEEPS_CHANNELS_LAST_ON_CPU = TORCH_MAJOR >= 2

GEOMETRY_KEYS = ("stride", "padding", "output_padding", "groups", "dilation")


def dtype_id(dtype):
    return str(dtype).replace("torch.", "")


@pytest.fixture(params=DTYPES, ids=dtype_id)
def dtype(request):
    """Every supported dtype; a test may override it with its own parametrize."""
    return request.param


@pytest.fixture(params=["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")])])
def device(request):
    """The grid runs on every device; on CUDA float32 runs float32-accurate
    (TF32 off: the IEEE GEMM, the default) so the float32 tolerance holds
    (TF32 and the IEEE SIMT GEMM are tested in test_cuda.py)."""
    if request.param == "cuda":
        gemm_convt.set_allow_tf32(False)
    return request.param


@pytest.fixture(autouse=True)
def _restore_gemm_convt_settings():
    """No test may leak a workspace limit or TF32 policy into another."""
    workspace = gemm_convt.get_workspace_limit()
    allow_tf32 = _settings._allow_tf32  # None means the default policy; the getter resolves it
    fp32_split, float_columns = gemm_convt.get_fp32_split(), gemm_convt.get_float_columns()
    width_folding, disjoint_taps = gemm_convt.get_width_folding(), gemm_convt.get_disjoint_taps()
    direct_gather, implicit_gemm = gemm_convt.get_direct_gather(), gemm_convt.get_implicit_gemm()
    cudnn_tf32 = torch.backends.cudnn.allow_tf32
    col2im_blocks = _C._get_col2im_blocks()
    gemm_graphs = gemm_convt.get_gemm_graphs()
    try:
        yield
    finally:
        gemm_convt.set_workspace_limit(workspace)
        gemm_convt.set_allow_tf32(allow_tf32)
        gemm_convt.set_fp32_split(fp32_split)
        gemm_convt.set_float_columns(float_columns)
        gemm_convt.set_width_folding(width_folding)
        gemm_convt.set_disjoint_taps(disjoint_taps)
        gemm_convt.set_direct_gather(direct_gather)
        gemm_convt.set_implicit_gemm(implicit_gemm)
        torch.backends.cudnn.allow_tf32 = cudnn_tf32
        _C._set_col2im_blocks(col2im_blocks)
        gemm_convt.set_gemm_graphs(gemm_graphs)


def _pair(v):
    if isinstance(v, int):
        return (v, v)
    v = tuple(v)
    return v * (2 // len(v))


def make_generator(seed):
    gen = torch.Generator()
    gen.manual_seed(seed)
    return gen


def randn(shape, seed, dtype=torch.float32):
    """Fresh standard-normal values (never zeros), rounded to `dtype`."""
    return torch.randn(*shape, generator=make_generator(seed), dtype=torch.float64).to(dtype)


def make_inputs(seed, n=2, cin=4, cout=3, kernel=3, size=(5, 6), groups=1, bias=True,
                dtype=torch.float32, unbatched=False, device="cpu"):
    """input (n, cin, H, W) or (cin, H, W), weight (cin, cout, kh, kw) where
    cout is the number of output channels per group, bias (groups*cout,)."""
    kh, kw = _pair(kernel)
    h, w = _pair(size)
    x_shape = (cin, h, w) if unbatched else (n, cin, h, w)
    x = randn(x_shape, seed, dtype)
    weight = randn((cin, cout, kh, kw), seed + 1, dtype)
    b = randn((groups * cout,), seed + 2, dtype) if bias else None
    return x.to(device), weight.to(device), (None if b is None else b.to(device))


def reference(x, weight, bias=None, **geometry):
    """torch's conv_transpose2d in float64 on the same values (contiguous copies:
    torch 1.13's CPU kernel mishandles some channels_last weights)."""
    cpu64 = lambda t: t.detach().to(device="cpu", dtype=torch.float64).contiguous()  # noqa: E731
    return F.conv_transpose2d(
        cpu64(x),
        cpu64(weight),
        None if bias is None else cpu64(bias),
        **geometry
    )


def assert_close_to_reference(out, ref, dtype, device="cpu"):
    assert isinstance(out, torch.Tensor)
    assert out.dtype == dtype, (out.dtype, dtype)
    expected_device = torch.device(device)
    assert out.device.type == expected_device.type, out.device
    if expected_device.index is not None:
        assert out.device.index == expected_device.index, out.device
    assert tuple(out.shape) == tuple(ref.shape), (tuple(out.shape), tuple(ref.shape))
    assert not out.requires_grad
    if ref.numel() == 0:
        return
    assert torch.isfinite(ref).all(), "reference not finite: the test inputs are broken"
    assert torch.isfinite(out).all(), "output has NaN/Inf (uninitialised or miscomputed elements)"
    tol = TOL[dtype]
    out64 = out.detach().to(device="cpu", dtype=torch.float64)
    ref64 = ref.detach().to(device="cpu", dtype=torch.float64)
    ref_norm = ref64.norm().item()
    assert ref_norm > 0, "reference is all zeros: the test inputs are broken"
    diff = (out64 - ref64).abs()
    rel = (out64 - ref64).norm().item() / ref_norm
    assert rel <= tol, "relative error %.3e > %.1e for %s" % (rel, tol, dtype)
    bound = tol * (ref64.abs() + ref64.abs().max())
    bad = diff > bound
    if bad.any():
        idx = tuple(int(i) for i in bad.nonzero()[0])
        raise AssertionError(
            "%d of %d elements outside tolerance %.1e for %s; first at %s: got %r, expected %r"
            % (int(bad.sum()), bad.numel(), tol, dtype, idx, out64[idx].item(), ref64[idx].item())
        )


def is_channels_last(t):
    """channels_last-contiguity of a 4-D result, or of a 3-D (unbatched) result
    seen as a batch of one."""
    if t.dim() == 3:
        t = t.unsqueeze(0)
    return t.is_contiguous(memory_format=torch.channels_last)


def assert_layout_like_torch(out, x, weight, bias, **geometry):
    """Memory layout equal to torch's own float32 CPU result on the same
    tensors (same strides), where torch keeps channels_last (torch >= 2)."""
    if not TORCH_KEEPS_CHANNELS_LAST_ON_CPU or out.numel() == 0:
        return
    f32 = lambda t: None if t is None else t.detach().to(torch.float32)  # noqa: E731
    expected = F.conv_transpose2d(f32(x), f32(weight), f32(bias), **geometry)
    assert is_channels_last(out) == is_channels_last(expected), (out.stride(), expected.stride())
    assert out.is_contiguous() == expected.is_contiguous(), (out.stride(), expected.stride())


# (seed, n, cin, cout, kernel, size, geometry): non_finite_border_case's problems
NON_FINITE_BORDER_CASES = [
    (91, 2, 6, 4, 4, (5, 9), dict(stride=2, padding=1)),  # stride 2: the gather's one-column form
    (92, 2, 32, 16, 3, (6, 140), dict(padding=1)),  # stride 1: the gather's two-column form, wgmma
]


def non_finite_border_case(case, dtype, device):
    """x, weight, bias, geometry with NaN, +inf and -inf at corner taps, each of which misses
    the input at one border (padding): torch adds nothing there, so most outputs stay finite."""
    seed, n, cin, cout, k, size, geometry = NON_FINITE_BORDER_CASES[case]
    x, w, b = make_inputs(seed, n=n, cin=cin, cout=cout, kernel=k, size=size, dtype=dtype)
    w[1, 2, 0, 0] = float("nan")
    w[4, 1, k - 1, k - 1] = float("inf")
    w[2, 3, 0, k - 1] = float("-inf")
    return x.to(device), w.to(device), b.to(device), geometry


def non_finite_disjoint_case(dtype, device):
    """x, weight, bias, geometry with disjoint taps (3x3, dilation 2, stride 5: the gather's
    row form), NaN, +inf and -inf at three taps, and output_padding 4, so the last output row
    and column sit at tap 0 of an input row and column past the input (bias only in torch)."""
    x, w, b = make_inputs(94, n=2, cin=6, cout=4, kernel=3, size=(5, 9), dtype=dtype)
    w[1, 2, 0, 0] = float("nan")
    w[4, 1, 2, 2] = float("inf")
    w[2, 3, 0, 2] = float("-inf")
    geometry = dict(stride=5, padding=3, output_padding=4, dilation=2)
    return x.to(device), w.to(device), b.to(device), geometry


# (kernel, geometry) of non_finite_edge_input_case: the input's edge pixels reach no output
NON_FINITE_EDGE_INPUT_CASES = [
    (2, dict(stride=2, padding=3, output_padding=1)),
    (3, dict(stride=1, padding=3)),
]


def non_finite_edge_input_case(case, dtype, device):
    """x, weight, bias, geometry with inf, NaN and -inf at input pixels whose taps all miss
    the output (cropped by the padding): the output is finite in torch."""
    k, geometry = NON_FINITE_EDGE_INPUT_CASES[case]
    x, w, b = make_inputs(96 + case, n=2, cin=6, cout=4, kernel=k, size=(7, 9), dtype=dtype)
    x[0, 1, 0, 0] = float("inf")
    x[1, 2, 6, 8] = float("nan")
    x[0, 3, 0, 4] = float("-inf")
    return x.to(device), w.to(device), b.to(device), geometry


def assert_non_finite_like(out, ref, rel_tol):
    """NaN, +inf and -inf exactly where the float64 reference has them, and the finite
    outputs (at least a quarter of them) within rel_tol of it (relative norm)."""
    out = out.detach().to(device="cpu", dtype=torch.float64)
    assert torch.equal(torch.isnan(out), torch.isnan(ref)), (int(out.isnan().sum()), int(ref.isnan().sum()))
    assert torch.equal(torch.isposinf(out), torch.isposinf(ref))
    assert torch.equal(torch.isneginf(out), torch.isneginf(ref))
    finite = torch.isfinite(ref)
    assert finite.sum() >= ref.numel() // 4  # enough finite values to compare
    err = ((out - ref)[finite].norm() / ref[finite].norm()).item()
    assert err <= rel_tol, err


@pytest.fixture(scope="session")
def helpers():
    return types.SimpleNamespace(
        TOL=TOL,
        DTYPES=DTYPES,
        TORCH_KEEPS_CHANNELS_LAST_ON_CPU=TORCH_KEEPS_CHANNELS_LAST_ON_CPU,
        randn=randn,
        make_inputs=make_inputs,
        reference=reference,
        assert_close_to_reference=assert_close_to_reference,
        is_channels_last=is_channels_last,
        assert_layout_like_torch=assert_layout_like_torch,
        non_finite_border_case=non_finite_border_case,
        non_finite_edge_input_case=non_finite_edge_input_case,
        non_finite_disjoint_case=non_finite_disjoint_case,
        assert_non_finite_like=assert_non_finite_like,
    )
