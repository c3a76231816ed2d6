"""Gradients of gemm_convt.conv_transpose2d against torch's float64 autograd of
torch.nn.functional.conv_transpose2d, gradcheck, higher orders, determinism,
and converted models that train like the originals."""
import copy
import itertools
import warnings

import pytest
import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt import models

CL = torch.channels_last

# gradcheck's forward-mode path makes torch script its jvp decompositions,
# which newer torch announces with a FutureWarning of its own.
ignore_torch_future_warnings = pytest.mark.filterwarnings("ignore::FutureWarning")


def case(case_id, n=2, cin=4, cout=3, groups=1, kernel=3, size=(5, 6), stride=1, padding=0,
         output_padding=0, dilation=1, bias=True):
    shape = dict(n=n, cin=cin, cout=cout, groups=groups, kernel=kernel, size=size, bias=bias)
    geometry = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                    dilation=dilation)
    return pytest.param(shape, geometry, id=case_id)


# Each parameter on its own, then a product grid (cout is per group).
SINGLE = [
    case("base"),
    case("k1x1", kernel=1),
    case("k3x5", kernel=(3, 5)),
    case("k4", kernel=4),
    case("s2", stride=2),
    case("s2x3", stride=(2, 3)),
    case("s4_gt_k2", stride=4, kernel=2),
    case("p1", padding=1),
    case("p2x0", padding=(2, 0)),
    case("p3_gt_k", padding=3, stride=2),
    case("op1_s2", stride=2, output_padding=1),
    case("op2_s1_d3", stride=1, dilation=3, output_padding=2),
    case("d2x3", dilation=(2, 3)),
    case("g2", groups=2),
    case("depthwise", groups=4, cout=1),
    case("g3_cin6", groups=3, cin=6, cout=2),
    case("nobias", bias=False),
    case("h1w1", size=(1, 1)),
    case("n1", n=1),
    case("cin1", cin=1),
    case("medium", cin=8, cout=6, size=(12, 10), stride=2, padding=1, output_padding=1),
]


def _combinations():
    params = []
    grid = itertools.product([1, 2, (2, 3)], [1, (2, 1)], [0, (1, 2)], [1, 2])
    for i, (stride, dilation, padding, groups) in enumerate(grid):
        s = (stride, stride) if isinstance(stride, int) else stride
        d = (dilation, dilation) if isinstance(dilation, int) else dilation
        output_padding = (0, 0) if i % 2 == 0 else (max(s[0], d[0]) - 1, max(s[1], d[1]) - 1)
        params.append(case("s%s-d%s-p%s-g%d-op%s" % (s, d, padding, groups, output_padding),
                           groups=groups, kernel=(3, 2), stride=stride, padding=padding,
                           output_padding=output_padding, dilation=dilation, bias=bool(i % 3)))
    return params


GRID = SINGLE + _combinations()


def _leaf(t):
    return None if t is None else t.detach().requires_grad_(True)


def _ours_and_reference(x, w, b, gy, geometry, wrt=None):
    """Gradients of ours (on the given tensors) and of torch in float64 on CPU
    (on the same values), for the tensors in `wrt` (default: all given)."""
    leaves = [_leaf(t) for t in (x, w, b)]
    names = [i for i, t in enumerate((x, w, b)) if t is not None and (wrt is None or i in wrt)]
    for i, t in enumerate(leaves):
        if t is not None and i not in names:
            t.requires_grad_(False)
    out = gemm_convt.conv_transpose2d(*leaves, **geometry)
    ours = torch.autograd.grad(out, [leaves[i] for i in names], gy)
    ref_leaves = [None if t is None else t.detach().to("cpu", torch.float64).contiguous().requires_grad_(i in names)
                  for i, t in enumerate((x, w, b))]
    ref_out = F.conv_transpose2d(*ref_leaves, **geometry)
    refs = torch.autograd.grad(ref_out, [ref_leaves[i] for i in names], gy.detach().to("cpu", torch.float64))
    return out, list(zip(names, ours, refs))


def _ours_and_reference_kernels(x, w, b, gy, geometry, wrt=None):
    """_ours_and_reference under the CUDA profiler: its result and the kernels it launched."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        result = _ours_and_reference(x, w, b, gy, geometry, wrt=wrt)
        torch.cuda.synchronize()
    return result, [e.name for e in prof.events()]


TF32_REL_TOL = 5e-3  # TF32 products (10-bit mantissa operands), relative to the reference's norm


def _assert_close_for_policy(ours, ref, policy, dtype, helpers):
    """TF32: TF32_REL_TOL relative; otherwise the dtype's tolerance (float32: three TF32 products)."""
    if policy == "tf32":
        rel = (ours.double().cpu() - ref).norm().item() / ref.norm().item()
        assert rel <= TF32_REL_TOL, rel
    else:
        helpers.assert_close_to_reference(ours, ref, dtype, "cuda")


def _grad_output(out, seed, dtype, helpers):
    return helpers.randn(tuple(out.shape), seed, dtype).to(out.device)


@pytest.mark.parametrize("shape, geometry", GRID)
def test_gradients_match_torch(shape, geometry, dtype, device, helpers):
    x, w, b = helpers.make_inputs(401, dtype=dtype, device=device, **shape)
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 402, dtype, helpers)
    out, grads = _ours_and_reference(x, w, b, gy, geometry)
    assert out.requires_grad and out.grad_fn is not None
    assert len(grads) == (3 if b is not None else 2)
    for _, ours, ref in grads:
        helpers.assert_close_to_reference(ours, ref, dtype, device)


# needs_input_grad: only the requested gradients are computed and returned.
@pytest.mark.parametrize("wrt", [(0,), (1,), (2,), (0, 1), (1, 2), (0, 2)],
                         ids=["input", "weight", "bias", "input+weight", "weight+bias", "input+bias"])
def test_gradient_subsets(wrt, device, helpers):
    geometry = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=1)
    x, w, b = helpers.make_inputs(411, groups=2, dtype=torch.float64, device=device)
    gy = torch.randn(2, 6, 10, 12, dtype=torch.float64, generator=torch.Generator().manual_seed(412)).to(device)
    _, grads = _ours_and_reference(x, w, b, gy, geometry, wrt=wrt)
    assert [i for i, _, _ in grads] == list(wrt)
    for _, ours, ref in grads:
        helpers.assert_close_to_reference(ours, ref, torch.float64, device)


@pytest.mark.parametrize("mask", list(itertools.product([False, True], repeat=3)),
                         ids=lambda m: "".join("1" if v else "0" for v in m))
def test_backward_operator_output_mask(mask, helpers):
    """The registered backward returns exactly the gradients its mask asks for."""
    x, w, b = helpers.make_inputs(413, dtype=torch.float64)
    gy = helpers.randn((2, 3, 7, 8), 414, torch.float64)
    gi, gw, gb = torch.ops.gemm_convt.conv_transpose2d_backward(gy, x, w, [1, 1], [0, 0], [0, 0], [1, 1], 1,
                                                                 list(mask))
    _, refs = _ours_and_reference(x, w, b, gy, dict(stride=1))
    for requested, got, (_, _, ref) in zip(mask, (gi, gw, gb), refs):
        if requested:
            helpers.assert_close_to_reference(got, ref, torch.float64)
        else:
            assert got is None


# --- gradcheck in float64, every order ------------------------------------------

GRADCHECK_CASES = [
    pytest.param(dict(), dict(stride=2, padding=1, output_padding=1), id="s2p1op1"),
    pytest.param(dict(groups=2, kernel=(3, 2)), dict(stride=(2, 3), padding=(0, 1), dilation=(1, 2), groups=2),
                 id="g2-d1x2"),
    pytest.param(dict(bias=False, kernel=1), dict(stride=3), id="k1-s3-nobias"),
    pytest.param(dict(unbatched=True), dict(stride=2, dilation=2, output_padding=1), id="unbatched"),
]


def _gradcheck_inputs(shape, device):
    shape = dict(dict(n=2, cin=4, cout=2, kernel=3, size=(3, 4)), **shape)
    unbatched = shape.pop("unbatched", False)
    gen = torch.Generator().manual_seed(421)
    kh, kw = (shape["kernel"],) * 2 if isinstance(shape["kernel"], int) else shape["kernel"]
    groups = shape.get("groups", 1)
    x = torch.randn(*((shape["cin"],) if unbatched else (shape["n"], shape["cin"])), *shape["size"],
                    dtype=torch.float64, generator=gen)
    w = torch.randn(shape["cin"], shape["cout"], kh, kw, dtype=torch.float64, generator=gen)
    b = torch.randn(groups * shape["cout"], dtype=torch.float64, generator=gen) if shape.get("bias", True) else None
    return [t if t is None else t.to(device).requires_grad_(True) for t in (x, w, b)]


@ignore_torch_future_warnings
@pytest.mark.parametrize("shape, geometry", GRADCHECK_CASES)
def test_gradcheck(shape, geometry, device):
    inputs = [t for t in _gradcheck_inputs(shape, device) if t is not None]
    fn = lambda *args: gemm_convt.conv_transpose2d(*args, **geometry)  # noqa: E731
    assert torch.autograd.gradcheck(fn, inputs, check_forward_ad=True, check_backward_ad=True)


@ignore_torch_future_warnings
@pytest.mark.parametrize("shape, geometry", GRADCHECK_CASES)
def test_gradgradcheck(shape, geometry, device):
    inputs = [t for t in _gradcheck_inputs(shape, device) if t is not None]
    fn = lambda *args: gemm_convt.conv_transpose2d(*args, **geometry)  # noqa: E731
    assert torch.autograd.gradgradcheck(fn, inputs, check_fwd_over_rev=True, check_rev_over_rev=True)


def test_double_backward_matches_torch(helpers):
    """A gradient penalty (WGAN-GP style): gradient of |d loss/d x|^2."""
    x, w, b = helpers.make_inputs(431, dtype=torch.float64)
    results = []
    for fn in (gemm_convt.conv_transpose2d, F.conv_transpose2d):
        xs, ws, bs = (t.detach().clone().requires_grad_(True) for t in (x, w, b))
        out = fn(xs, ws, bs, stride=2, padding=1)
        (gx,) = torch.autograd.grad(out.pow(2).sum(), xs, create_graph=True)
        results.append(torch.autograd.grad(gx.pow(2).sum(), (xs, ws, bs)))
    for ours, ref in zip(*results):
        helpers.assert_close_to_reference(ours, ref, torch.float64)


@ignore_torch_future_warnings
def test_forward_ad_matches_torch(helpers):
    import torch.autograd.forward_ad as fwAD

    x, w, b = helpers.make_inputs(441, dtype=torch.float64, groups=2)
    tx, tw, tb = (helpers.randn(tuple(t.shape), 442 + i, torch.float64) for i, t in enumerate((x, w, b)))
    geometry = dict(stride=(2, 1), padding=1, groups=2)
    tangents = []
    for fn in (gemm_convt.conv_transpose2d, F.conv_transpose2d):
        with fwAD.dual_level():
            out = fn(fwAD.make_dual(x, tx), fwAD.make_dual(w, tw), fwAD.make_dual(b, tb), **geometry)
            tangents.append(fwAD.unpack_dual(out).tangent)
    helpers.assert_close_to_reference(tangents[0], tangents[1], torch.float64)


def _functorch():
    """torch.func (torch >= 2.0), else the functorch that ships with torch 1.13."""
    if hasattr(torch, "func"):
        return torch.func
    return pytest.importorskip("functorch")


@ignore_torch_future_warnings
@pytest.mark.parametrize("transform", ["grad", "jvp", "vjp", "jacrev-jacrev"])
def test_torch_func_transforms_raise_our_error(transform, helpers):
    """Refused with our message, never a wrong answer (torch 1.13's functorch
    would give a wrong nested jacrev)."""
    func = _functorch()
    x, w, b = helpers.make_inputs(451, dtype=torch.float64)
    fn = lambda w: gemm_convt.conv_transpose2d(x, w, b).pow(2).sum()  # noqa: E731
    with pytest.raises(RuntimeError, match=r"gemm_convt.conv_transpose2d: torch.func transforms .* not supported"):
        if transform == "grad":
            func.grad(fn)(w)
        elif transform == "jvp":
            func.jvp(fn, (w,), (torch.ones_like(w),))
        elif transform == "vjp":
            func.vjp(fn, w)
        else:
            func.jacrev(func.jacrev(fn))(w)
    # torch.autograd gives that second derivative (checked against torch's own).
    ws = w.detach().clone().requires_grad_(True)
    (g,) = torch.autograd.grad(fn(ws), ws, create_graph=True)
    row = torch.autograd.grad(g.flatten()[3], ws)[0]
    wr = w.detach().clone().requires_grad_(True)
    (gr,) = torch.autograd.grad(F.conv_transpose2d(x, wr, b).pow(2).sum(), wr, create_graph=True)
    helpers.assert_close_to_reference(row, torch.autograd.grad(gr.flatten()[3], wr)[0], torch.float64)


# --- layouts, chunking, empty batch, determinism ---------------------------------

LAYOUTS = ["nchw", "cl_input", "cl_all", "noncontig_grad"]


@pytest.mark.parametrize("layout", LAYOUTS)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16], ids=["float64", "float32",
                                                                                         "bfloat16"])
def test_layouts(layout, dtype, device, helpers):
    geometry = dict(stride=2, padding=1, output_padding=1, groups=2, dilation=(1, 2))
    x, w, b = helpers.make_inputs(461, groups=2, kernel=(3, 2), dtype=dtype, device=device)
    if layout in ("cl_input", "cl_all"):
        x = x.to(memory_format=CL)
    if layout == "cl_all":
        w = w.to(memory_format=CL)
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 462, dtype, helpers)
    if layout == "cl_all":
        gy = gy.to(memory_format=CL)
    if layout == "noncontig_grad":  # every other element of a wider tensor
        wide = helpers.randn(tuple(gy.shape[:-1]) + (2 * gy.shape[-1],), 463, dtype).to(device)
        gy = wide[..., ::2]
        assert not gy.is_contiguous()
    _, grads = _ours_and_reference(x, w, b, gy, geometry)
    for _, ours, ref in grads:
        helpers.assert_close_to_reference(ours, ref, dtype, device)


# channels_last grad_output with >= 8 planes (group, channel) per chunk through
# im2col (the other layout tests have 6): 11 and 2x5 planes, and bands of input
# rows (a small workspace).
@pytest.mark.parametrize("shape, geometry, limit", [
    pytest.param(dict(cin=6, cout=11, kernel=4, size=(5, 7)), dict(stride=2, padding=1), None, id="c11-s2"),
    pytest.param(dict(cin=4, cout=5, groups=2, kernel=(3, 2), size=(6, 9)),
                 dict(stride=(2, 1), dilation=(1, 2), groups=2), None, id="g2x5-d1x2"),
    pytest.param(dict(cin=4, cout=12, kernel=3, size=(8, 10)), dict(stride=2, padding=1), 3 * 12 * 9 * 10,
                 id="c12-bands"),
])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16], ids=["float64", "float32",
                                                                                         "bfloat16"])
def test_channels_last_grad_output_many_planes(shape, geometry, limit, dtype, device, helpers):
    x, w, b = helpers.make_inputs(481, dtype=dtype, device=device, **shape)
    x = x.to(memory_format=CL)
    if limit is not None:  # column values (three input rows of all planes) -> bytes
        gemm_convt.set_workspace_limit(limit * (8 if dtype == torch.float64 else 4))
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 482, dtype, helpers).to(memory_format=CL)
    if device == "cuda":
        (_, grads), kernels = _ours_and_reference_kernels(x, w, b, gy, geometry)
        assert any("im2col_kernel" in k for k in kernels), "the case must reach im2col"
    else:
        _, grads = _ours_and_reference(x, w, b, gy, geometry)
    for _, ours, ref in grads:
        helpers.assert_close_to_reference(ours, ref, dtype, device)


def test_empty_batch(helpers):
    x, w, b = helpers.make_inputs(471, n=0, dtype=torch.float64)
    gy = torch.empty(0, 3, 7, 8, dtype=torch.float64)
    _, grads = _ours_and_reference(x, w, b, gy, dict())
    for _, ours, ref in grads:
        assert ours.shape == ref.shape
        assert torch.equal(ours, ref)  # empty, or exact zeros
    assert grads[1][1].numel() > 0 and torch.count_nonzero(grads[1][1]) == 0


def _column_plane_bytes(dtype):  # one output channel's backward columns, below
    return 3 * 2 * 4 * 5 * (8 if dtype == torch.float64 else 4)


@pytest.mark.parametrize("limit", [0.25, 0.5, 1, 2, 5, 13, 37, None],
                         ids=lambda v: "x%s-planes" % v if v else "default")
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16], ids=["float64", "float32",
                                                                                        "float16"])
def test_workspace_chunking_and_bitwise_reruns(limit, dtype, device, helpers):
    """Chunks of one input row of one channel, of some groups, bands of rows of all channels, samples,
    whole batches; each limit twice, same bits."""
    geometry = dict(stride=(1, 3), dilation=(2, 1), output_padding=(1, 2), groups=2)
    x, w, b = helpers.make_inputs(481, n=3, cin=4, cout=3, groups=2, kernel=(3, 2), size=(4, 5), dtype=dtype,
                                  device=device)
    if limit is not None:
        gemm_convt.set_workspace_limit(int(limit * _column_plane_bytes(dtype)))
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 482, dtype, helpers)
    _, first = _ours_and_reference(x, w, b, gy, geometry)
    for _, ours, ref in first:
        helpers.assert_close_to_reference(ours, ref, dtype, device)
    _, again = _ours_and_reference(x, w, b, gy, geometry)
    for (_, a, _), (_, c, _) in zip(first, again):
        assert torch.equal(a, c)
    # channels_last input: another GEMM layout (other bits), reruns equal again.
    x_cl = x.to(memory_format=CL)
    _, cl_first = _ours_and_reference(x_cl, w, b, gy, geometry)
    _, cl_again = _ours_and_reference(x_cl, w, b, gy, geometry)
    for (_, a, ref), (_, c, _) in zip(cl_first, cl_again):
        helpers.assert_close_to_reference(a, ref, dtype, device)
        assert torch.equal(a, c)


def test_deterministic_algorithms_raise_no_warning(device, helpers):
    x, w, b = helpers.make_inputs(491, dtype=torch.float32, device=device)
    was = torch.are_deterministic_algorithms_enabled()
    try:
        torch.use_deterministic_algorithms(True)
        with warnings.catch_warnings():
            warnings.simplefilter("error")
            leaves = [_leaf(t) for t in (x, w, b)]
            out = gemm_convt.conv_transpose2d(*leaves, stride=2, padding=1)
            out.square().sum().backward()
    finally:
        torch.use_deterministic_algorithms(was)
    assert all(t.grad is not None and torch.isfinite(t.grad).all() for t in leaves)


def test_registered_operator_is_differentiable_unbatched(helpers):
    """torch.ops.gemm_convt.conv_transpose2d directly (as TorchScript and
    torch.compile call it), unbatched input."""
    x, w, b = helpers.make_inputs(495, unbatched=True, dtype=torch.float64)
    leaves = [_leaf(t) for t in (x, w, b)]
    out = torch.ops.gemm_convt.conv_transpose2d(*leaves, [2, 2], [1, 1], [1, 1], [1, 1], 1)
    gy = helpers.randn(tuple(out.shape), 496, torch.float64)
    ours = torch.autograd.grad(out, leaves, gy)
    _, grads = _ours_and_reference(x, w, b, gy, dict(stride=2, padding=1, output_padding=1))
    for got, (_, _, ref) in zip(ours, grads):
        helpers.assert_close_to_reference(got, ref, torch.float64)


# --- converted models train like the originals -------------------------------

STEPS = 5  # optimizer steps on one fixed batch


def _dcgan_case(dtype):
    model = models.dcgan_generator(latent=16, width=8, channels=3, image_size=32).to(dtype)
    gen = torch.Generator().manual_seed(501)
    batch = (torch.randn(4, 16, 1, 1, generator=gen, dtype=dtype),
             torch.rand(4, 3, 32, 32, generator=gen, dtype=dtype) * 2 - 1)
    return model, [batch] * STEPS


def _unet_case(dtype):
    model = models.unet(in_channels=3, out_channels=2, width=4, depth=2).to(dtype)
    gen = torch.Generator().manual_seed(502)
    batch = (torch.randn(2, 3, 16, 12, generator=gen, dtype=dtype),
             torch.randn(2, 2, 16, 12, generator=gen, dtype=dtype))
    return model, [batch] * STEPS


def _train(model, batches):
    opt = torch.optim.SGD(model.parameters(), lr=0.05, momentum=0.9)
    losses = []
    for inputs, target in batches:
        opt.zero_grad()
        loss = F.mse_loss(model(inputs), target)
        loss.backward()
        opt.step()
        losses.append(loss.item())
    return losses, [p.detach().clone() for p in model.parameters()]


# float64: both paths exact up to accumulation order; float32: strict IEEE on
# the CPU (no TF32 there), STEPS optimizer steps of rounding differences.
MODEL_TOL = {torch.float64: 1e-9, torch.float32: 2e-4}


@pytest.mark.parametrize("make_case", [_dcgan_case, _unet_case], ids=["dcgan", "unet"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_converted_model_trains_like_original(make_case, dtype):
    torch.manual_seed(503)
    original, batches = make_case(dtype)
    converted = gemm_convt.convert(copy.deepcopy(original))
    assert any(isinstance(m, gemm_convt.ConvTranspose2d) for m in converted.modules())
    assert not any(type(m) is torch.nn.ConvTranspose2d for m in converted.modules())
    losses_ref, params_ref = _train(original, batches)
    losses, params = _train(converted, batches)
    tol = MODEL_TOL[dtype]
    assert all(l == l for l in losses), losses  # no NaN
    for ours, ref in zip(losses, losses_ref):
        assert abs(ours - ref) <= tol * abs(ref), (losses, losses_ref)
    assert losses[-1] < losses[0], "training did not reduce the loss: the test premise is wrong"
    for ours, ref in zip(params, params_ref):
        assert torch.isfinite(ours).all()
        rel = (ours - ref).double().norm().item() / ref.double().norm().item()
        assert rel <= tol, rel


# The implicit paths forced (set_implicit_gemm(True)) on the whole grid: grad_weight contracted
# in place (include/gemm_convt/grad_weight.h: the CUDA kernel, or its CPU walk), stride-1
# grad_input as a forward on the implicit GEMM.
@pytest.mark.parametrize("shape, geometry", GRID)
def test_gradients_on_the_implicit_paths(shape, geometry, dtype, device, helpers):
    gemm_convt.set_implicit_gemm(True)
    x, w, b = helpers.make_inputs(403, dtype=dtype, device=device, **shape)
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 404, dtype, helpers)
    _, grads = _ours_and_reference(x, w, b, gy, geometry, wrt=(0, 1))
    for _, ours, ref in grads:
        helpers.assert_close_to_reference(ours, ref, dtype, device)


# Stride 1: grad_input is the forward of a derived transposed convolution (the weight
# flipped, its channel roles swapped, padding dilation*(k-1) - padding). With the implicit
# GEMM forced it runs there (its CPU walk on the CPU); the last two cases lack the form
# and keep im2col + GEMM.
STRIDE_ONE = [
    case("k3-p1", padding=1),
    case("k3x5-p0", kernel=(3, 5), size=(6, 9)),
    case("k3x2-d2x1-p1x0-g2", kernel=(3, 2), dilation=(2, 1), padding=(1, 0), groups=2),
    case("depthwise-p1x2", kernel=(3, 5), groups=4, cout=1, padding=(1, 2)),
    case("k2-p2-past-the-kernel", kernel=2, padding=2),
    case("d3-op2", dilation=3, output_padding=2),
]


@pytest.mark.parametrize("layout", ["nchw", "channels_last"])
@pytest.mark.parametrize("shape, geometry", STRIDE_ONE)
def test_stride1_grad_input_on_the_implicit_gemm(shape, geometry, layout, dtype, device, helpers):
    gemm_convt.set_implicit_gemm(True)
    x, w, b = helpers.make_inputs(421, dtype=dtype, device=device, **shape)
    if layout == "channels_last":
        x = x.contiguous(memory_format=CL)
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 422, dtype, helpers)
    for wrt in ((0,), (0, 1)):
        _, grads = _ours_and_reference(x, w, b, gy, geometry, wrt=wrt)
        for _, ours, ref in grads:
            helpers.assert_close_to_reference(ours, ref, dtype, device)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("policy", ["ieee", "tf32", "bfloat16"])
@pytest.mark.parametrize("wrt", [(0,), (0, 1)], ids=["input", "input+weight"])
def test_cuda_stride1_grad_input_picks_the_implicit_gemm(wrt, policy, helpers):
    """By the cost model (nothing forced), a stride-1 layer of kb71's kind: grad_input runs on
    implicit_gemm_kernel, and im2col runs only when grad_weight needs its columns (bfloat16:
    float32's grad_weight runs on grad_weight_kernel). Tolerances: float32's (three TF32
    products), TF32 5e-3 relative, bfloat16's."""
    dtype = torch.bfloat16 if policy == "bfloat16" else torch.float32
    gemm_convt.set_allow_tf32(policy == "tf32")
    x, w, b = helpers.make_inputs(431, n=2, cin=32, cout=32, kernel=3, size=(96, 160), dtype=dtype,
                                  device="cuda")
    geometry = dict(padding=1)
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 432, dtype, helpers)
    (_, grads), names = _ours_and_reference_kernels(x, w, b, gy, geometry, wrt=wrt)
    # one implicit GEMM launch for the forward, one (two: the guarded rerun) for grad_input
    assert sum("implicit_gemm_kernel" in n for n in names) >= 2, names
    assert any("im2col_kernel" in n for n in names) == (1 in wrt and policy == "bfloat16"), names
    assert any("grad_weight_kernel" in n for n in names) == (1 in wrt and policy != "bfloat16"), names
    for _, ours, ref in grads:
        _assert_close_for_policy(ours, ref, policy, dtype, helpers)
    _, again = _ours_and_reference(x, w, b, gy, geometry, wrt=wrt)
    for (_, ours, _), (_, rerun, _) in zip(grads, again):
        assert torch.equal(ours, rerun)


# --- CUDA only: the TF32 policy of the backward --------------------------------

@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_backward_follows_tf32_policy(helpers):
    """Strict fp32 meets the float32 tolerance; TF32 (10-bit mantissa operands)
    is looser (TF32_REL_TOL) and measurably different, so it really ran."""
    x, w, b = helpers.make_inputs(511, n=4, cin=64, cout=32, kernel=3, size=(16, 16), dtype=torch.float32,
                                  device="cuda")
    geometry = dict(stride=2, padding=1, output_padding=1)
    gy = helpers.randn((4, 32, 32, 32), 512, torch.float32).cuda()
    results = {}
    for allow in (False, True):
        gemm_convt.set_allow_tf32(allow)
        _, results[allow] = _ours_and_reference(x, w, b, gy, geometry)
    for (_, strict, ref), (_, tf32, _) in zip(results[False], results[True]):
        _assert_close_for_policy(strict, ref, "ieee", torch.float32, helpers)
        _assert_close_for_policy(tf32, ref, "tf32", torch.float32, helpers)
    # grad_input and grad_weight go through the GEMMs (grad_bias does not).
    assert not torch.equal(results[False][0][1], results[True][0][1])
    assert not torch.equal(results[False][1][1], results[True][1][1])


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("policy", ["ieee", "tf32"])
@pytest.mark.parametrize("cin, cout, groups, stride, picked", [
    (64, 64, 1, 1, True), (128, 64, 2, 2, True), (32, 64, 1, 1, True), (32, 24, 1, 1, True), (256, 64, 1, 1, False)],
    ids=["64x64-tiles", "64x64-tiles-g2-s2", "32x64-tiles", "32x32-tiles", "cin256"])
def test_cuda_grad_weight_rule(cin, cout, groups, stride, picked, policy, helpers):
    """By the rule (nothing forced), float32 grad_weight runs on grad_weight_kernel where cuBLAS's
    GEMM would be thin (17-128 input channels per group), in 64- or 32-wide channel tiles, with
    no im2col when grad_input needs none either; 256 channels per group keep the columns. Several position slices, summed in
    order: bitwise reruns; float32 tolerance (three TF32 products) or TF32's 5e-3."""
    gemm_convt.set_allow_tf32(policy == "tf32")
    x, w, b = helpers.make_inputs(441, n=2, cin=cin, cout=cout, groups=groups, kernel=3, size=(40, 72),
                                  dtype=torch.float32, device="cuda")
    geometry = dict(padding=1, stride=stride, groups=groups)
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 442, torch.float32, helpers)
    (_, grads), names = _ours_and_reference_kernels(x, w, b, gy, geometry, wrt=(1,))
    assert any("grad_weight_kernel" in n for n in names) == picked, names
    assert any("im2col_kernel" in n for n in names) != picked, names
    (_, ours, ref), = grads
    _assert_close_for_policy(ours, ref, policy, torch.float32, helpers)
    (_, again, _), = _ours_and_reference(x, w, b, gy, geometry, wrt=(1,))[1]
    assert torch.equal(ours, again)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("limit", [200_000, None], ids=["one-slice", "slices"])
def test_cuda_grad_weight_float32_accuracy_over_long_slices(limit, helpers):
    """131072 positions, in one slice (a small workspace cap) or the rule's slices: the tensor
    cores round their accumulation toward zero, and summed over ~10^5 positions in their
    accumulator float32 grad_weight came out 3e-4 off; each stage's products are now added
    with IEEE float adds. Held to the float32 tolerance."""
    gemm_convt.set_allow_tf32(False)
    gemm_convt.set_workspace_limit(limit)
    x, w, _ = helpers.make_inputs(451, n=2, cin=64, cout=64, kernel=3, size=(256, 256), bias=False,
                                  dtype=torch.float32, device="cuda")
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, padding=1)
    gy = _grad_output(probe, 452, torch.float32, helpers)
    (_, grads), names = _ours_and_reference_kernels(x, w, None, gy, dict(padding=1), wrt=(1,))
    assert any("grad_weight_kernel" in n for n in names)
    (_, ours, ref), = grads
    helpers.assert_close_to_reference(ours, ref, torch.float32, "cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("cin_per_group", [3, 8, 16, 33, 64])
@pytest.mark.parametrize("forced", [False, True], ids=["rule", "forced"])
@pytest.mark.parametrize("limit", [None, 6000], ids=["slices", "one-slice-chunks"])
def test_cuda_thin_gemm_gradients(cin_per_group, forced, limit, monkeypatch, helpers):
    """float32 grad_input and grad_weight on cuda/thin_gemm.cu: by the rule (in_per_group <= 16)
    or forced (GEMM_CONVT_THIN_GEMM=1, up to 64): column tiles of 8-64 with a ragged edge, A
    contiguous along m (grad_input, samples and groups in one launch) or k (grad_weight), K
    slices summed at the end (default cap) or one slice written in place across chunks (a small
    cap), NCHW and channels_last; float32 tolerance, bitwise reruns. cuBLAS where neither applies."""
    if forced:
        monkeypatch.setenv("GEMM_CONVT_THIN_GEMM", "1")
    gemm_convt.set_allow_tf32(False)
    if limit is not None:
        gemm_convt.set_workspace_limit(limit)
    geometry = dict(stride=2, padding=1, output_padding=1, groups=2)
    x, w, b = helpers.make_inputs(521, n=2, cin=2 * cin_per_group, cout=5, groups=2, kernel=(3, 2),
                                  size=(24, 20), dtype=torch.float32, device="cuda")
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 522, torch.float32, helpers)
    for layout in (torch.contiguous_format, CL):
        xl = x.contiguous(memory_format=layout)
        _, first = _ours_and_reference(xl, w, b, gy, geometry, wrt=(0, 1))
        _, again = _ours_and_reference(xl, w, b, gy, geometry, wrt=(0, 1))
        for (_, ours, ref), (_, rerun, _) in zip(first, again):
            helpers.assert_close_to_reference(ours, ref, torch.float32, "cuda")
            assert torch.equal(ours, rerun)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("implicit", [None, True], ids=["rule", "implicit"])
@pytest.mark.parametrize("cin_per_group", [8, 64], ids=["thin-gemm", "cublas"])
def test_cuda_gradients_keep_infinities_and_nans(cin_per_group, implicit, helpers):
    """An inf or NaN in grad_output or the input reaches grad_input and grad_weight as torch's
    does, on the thin kernel (8 channels per group) as on cuBLAS (64), and on the implicit
    grad_weight kernel (three TF32 products: its guarded rerun): grad_weight's K slices and
    their partial sums must neither lose nor invent a non-finite value."""
    gemm_convt.set_allow_tf32(False)
    gemm_convt.set_implicit_gemm(implicit)
    geometry = dict(stride=2, padding=1, groups=2)
    x, w, _ = helpers.make_inputs(531, n=2, cin=2 * cin_per_group, cout=5, groups=2, kernel=3,
                                  size=(24, 20), bias=False, dtype=torch.float32, device="cuda")
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, **geometry)
    gy = _grad_output(probe, 532, torch.float32, helpers)
    gy[0, 1, 5, 7] = float("inf")
    gy[1, 7, 10, 3] = float("nan")
    x[1, cin_per_group + 3, 3, 4] = float("-inf")
    _, got = _ours_and_reference(x, w, None, gy, geometry, wrt=(0, 1))
    for _, ours, ref in got:
        host = ours.cpu().double()
        assert torch.equal(torch.isnan(host), torch.isnan(ref))
        assert torch.equal(torch.isinf(host), torch.isinf(ref))
        assert torch.equal(host[torch.isinf(ref)], ref[torch.isinf(ref)])
        finite = torch.isfinite(ref)
        assert 0 < finite.sum() < finite.numel()
        helpers.assert_close_to_reference(ours[finite.cuda()], ref[finite], torch.float32, "cuda")


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
def test_cuda_thin_gemm_more_entries_than_one_launch_holds(helpers):
    """A depthwise layer with 40000 groups and 2 samples: grad_input's (sample, group) pairs pass
    the 65535 a thin-kernel launch holds, so grad_input goes to cuBLAS while grad_weight (40000
    entries) stays on the thin kernel."""
    gemm_convt.set_allow_tf32(False)
    geometry = dict(stride=2, padding=1, groups=40000)
    x, w, b = helpers.make_inputs(541, n=2, cin=40000, cout=1, groups=40000, kernel=3, size=(3, 2),
                                  dtype=torch.float32, device="cuda")
    with torch.no_grad():
        probe = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    gy = _grad_output(probe, 542, torch.float32, helpers)
    _, got = _ours_and_reference(x, w, b, gy, geometry)
    for _, ours, ref in got:
        helpers.assert_close_to_reference(ours, ref, torch.float32, "cuda")
