"""gemm_convt.conv_transpose2d against torch.nn.functional.conv_transpose2d (float64)."""
import itertools

import pytest
import torch

import gemm_convt

CL = torch.channels_last


def case(case_id, n=2, cin=4, cout=3, groups=1, kernel=3, size=(5, 6), stride=1, padding=0,
         output_padding=0, dilation=1, bias=True):
    shape = dict(n=n, cin=cin, cout=cout, groups=groups, kernel=kernel, size=size, bias=bias)
    geometry = dict(stride=stride, padding=padding, output_padding=output_padding, groups=groups,
                    dilation=dilation)
    return pytest.param(shape, geometry, id=case_id)


# Each parameter on its own (cout is output channels per group).
SINGLE = [
    case("base"),
    case("k1x1", kernel=1),
    case("k3x5", kernel=(3, 5)),
    case("k1x3", kernel=(1, 3)),
    case("k5x1", kernel=(5, 1)),
    case("k2x2", kernel=2),
    case("k4x4", kernel=4),
    case("s2", stride=2),
    case("s2x3", stride=(2, 3)),
    case("s3x1", stride=(3, 1)),
    case("s4_gt_k2", stride=4, kernel=2),
    case("s4x5_gt_k2x1", stride=(4, 5), kernel=(2, 1)),
    case("s3_k1", stride=3, kernel=1),
    case("p1", padding=1),
    case("p2x0", padding=(2, 0)),
    case("p0x2", padding=(0, 2)),
    case("p3_gt_k", padding=3, stride=2),
    case("op1_s2", stride=2, output_padding=1),
    case("op1x2_s2x3", stride=(2, 3), output_padding=(1, 2)),
    case("op2_ge_s1_lt_d3", stride=1, dilation=3, output_padding=2),
    case("op2x1_s1x2_d3x1", stride=(1, 2), dilation=(3, 1), output_padding=(2, 1)),
    case("op2x1_s3_d2", stride=3, dilation=2, output_padding=(2, 1)),
    case("d2", dilation=2),
    case("d2x3", dilation=(2, 3)),
    case("d1x4_k2", dilation=(1, 4), kernel=2),
    case("g2", groups=2),
    case("g2_cout1", groups=2, cout=1),
    case("depthwise", groups=4, cout=1),
    case("depthwise_mult2", groups=4, cout=2),
    case("g3_cin6", groups=3, cin=6, cout=2),
    case("nobias", bias=False),
    case("nobias_g2", bias=False, groups=2),
    case("h1", size=(1, 6)),
    case("w1", size=(5, 1)),
    case("h1w1", size=(1, 1)),
    case("h1w1_k1", size=(1, 1), kernel=1),
    case("n1", n=1),
    case("n3", n=3),
    case("cin1", cin=1),
    case("cout1", cout=1),
    # More than one parallel_for grain of output elements.
    case("medium", cin=8, cout=6, size=(12, 10), stride=2, padding=1, output_padding=1),
]


def _fmt(v):
    return "x".join(str(i) for i in v) if isinstance(v, tuple) else str(v)


def _combinations():
    """stride x dilation x padding x groups x kernel, alternating output_padding
    (none / the largest allowed) and bias."""
    params = []
    grid = itertools.product(
        [1, 2, (2, 3)],  # stride
        [1, (2, 1)],  # dilation
        [0, (1, 2)],  # padding
        [1, 2],  # groups
        [(3, 2), (1, 3)],  # kernel
    )
    for i, (stride, dilation, padding, groups, kernel) in enumerate(grid):
        s = (stride, stride) if isinstance(stride, int) else stride
        d = (dilation, dilation) if isinstance(dilation, int) else dilation
        output_padding = (0, 0) if i % 2 == 0 else (max(s[0], d[0]) - 1, max(s[1], d[1]) - 1)
        bias = bool(i % 3)
        case_id = "s%s-d%s-p%s-g%d-k%s-op%s-%s" % (_fmt(stride), _fmt(dilation), _fmt(padding), groups, _fmt(kernel),
                                                 _fmt(output_padding), "bias" if bias else "nobias")
        params.append(case(case_id, groups=groups, kernel=kernel, stride=stride, padding=padding,
                           output_padding=output_padding, dilation=dilation, bias=bias))
    return params


COMBOS = _combinations()


@pytest.mark.parametrize("shape, geometry", SINGLE + COMBOS)
def test_matches_torch(shape, geometry, dtype, device, helpers):
    x, w, b = helpers.make_inputs(11, dtype=dtype, device=device, **shape)
    with torch.no_grad():
        out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    ref = helpers.reference(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, ref, dtype, device)
    assert out.is_contiguous()
    if dtype == torch.float32:
        helpers.assert_layout_like_torch(out, x, w, b, **geometry)


# The direct gather, forced (on the CPU it runs only when asked): the walk it shares with
# the CUDA kernel (include/gemm_convt/gather.h) tested on every geometry here too. The
# "wide" cases have >= 64 multiply-adds per output value: the two-column walk.
WIDE = [
    case("wide", cin=32, cout=5, size=(7, 9), padding=1),
    case("wide_s2_op", cin=64, cout=3, size=(6, 7), stride=2, kernel=4, padding=1, output_padding=1),
    case("wide_s3x2_d2", cin=48, cout=2, size=(5, 8), stride=(3, 2), kernel=(3, 5), dilation=2,
         padding=(2, 1), groups=2),
]


# Disjoint taps (the dilated kernel within one stride): the gather's row form, whose row
# and column taps come from disjoint_hit (gather.h), as on CUDA.
ROWS = [
    case("rows_81", cin=8, cout=5, size=(7, 9), stride=5, kernel=3, dilation=2, padding=1),
    case("rows_op_past_input", cin=6, cout=4, size=(5, 6), stride=5, kernel=3, dilation=2, padding=3,
         output_padding=4),
    case("rows_s3x4_g3", cin=6, cout=2, size=(4, 7), stride=(3, 4), kernel=(2, 3), padding=(0, 1),
         output_padding=(1, 3), groups=3),
    case("rows_s2_k2", cin=4, cout=3, size=(5, 5), stride=2, kernel=2),
]


# The implicit GEMM likewise: its row taps, width phases and their input columns
# (include/gemm_convt/implicit.h); on CUDA float64 keeps GEMM + col2im there.
@pytest.mark.parametrize("path", ["gather", "implicit"])
@pytest.mark.parametrize("shape, geometry", SINGLE + COMBOS + WIDE + ROWS)
def test_direct_paths_match_torch(shape, geometry, path, dtype, device, helpers):
    x, w, b = helpers.make_inputs(13, dtype=dtype, device=device, **shape)
    if path == "gather":
        gemm_convt.set_direct_gather(True)
    else:
        gemm_convt.set_implicit_gemm(True)
    for layout in (torch.contiguous_format, CL):
        xl = x.contiguous(memory_format=layout)
        with torch.no_grad():
            out = gemm_convt.conv_transpose2d(xl, w, b, **geometry)
        helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)


def test_positional_arguments_match_keywords(helpers):
    x, w, b = helpers.make_inputs(12, groups=2)
    by_position = gemm_convt.conv_transpose2d(x, w, b, 2, 1, 1, 2, 1)
    by_keyword = gemm_convt.conv_transpose2d(input=x, weight=w, bias=b, stride=2, padding=1, output_padding=1,
                                             groups=2, dilation=1)
    assert torch.equal(by_position, by_keyword)
    helpers.assert_close_to_reference(by_position, helpers.reference(x, w, b, stride=2, padding=1, output_padding=1,
                                                                      groups=2), torch.float32)


def test_uncovered_positions_are_exactly_the_bias():
    # stride 4 > kernel 2: rows/columns 2 and 3 of every 4 receive no tap.
    x = torch.randn(2, 3, 4, 5, generator=torch.Generator().manual_seed(13))
    w = torch.randn(3, 2, 2, 2, generator=torch.Generator().manual_seed(14))
    b = torch.randn(2, generator=torch.Generator().manual_seed(15))
    out = gemm_convt.conv_transpose2d(x, w, b, stride=4)
    assert out.shape == (2, 2, 14, 18)
    expected = b.view(1, 2, 1, 1).expand(2, 2, 14, 18)
    gap_rows = (torch.arange(14) % 4) >= 2
    gap_cols = (torch.arange(18) % 4) >= 2
    assert torch.equal(out[:, :, gap_rows, :], expected[:, :, gap_rows, :])
    assert torch.equal(out[:, :, :, gap_cols], expected[:, :, :, gap_cols])
    # ... and without bias they are exact zeros, while covered positions are not.
    out = gemm_convt.conv_transpose2d(x, w, None, stride=4)
    assert torch.count_nonzero(out[:, :, gap_rows, :]) == 0
    assert torch.count_nonzero(out[:, :, :, gap_cols]) == 0
    covered = out[:, :, ~gap_rows][:, :, :, ~gap_cols]
    assert torch.count_nonzero(covered) == covered.numel()


UNBATCHED = [
    pytest.param(dict(), id="base"),
    pytest.param(dict(stride=2, padding=1, output_padding=1), id="s2p1op1"),
    pytest.param(dict(stride=(1, 2), dilation=(3, 1), output_padding=(2, 1), groups=2), id="g2-d3x1-op2x1"),
    pytest.param(dict(groups=4), id="depthwise"),
]


@pytest.mark.parametrize("geometry", UNBATCHED)
def test_unbatched_input(geometry, dtype, device, helpers):
    groups = geometry.get("groups", 1)
    x, w, b = helpers.make_inputs(21, cout=2, groups=groups, kernel=(3, 2), size=(4, 7), dtype=dtype,
                                  unbatched=True, device=device)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    ref = helpers.reference(x, w, b, **geometry)
    assert ref.dim() == 3
    helpers.assert_close_to_reference(out, ref, dtype, device)
    # Same values as the batch of one.
    batched = gemm_convt.conv_transpose2d(x.unsqueeze(0), w, b, **geometry)
    assert torch.equal(out, batched.squeeze(0))
    if dtype == torch.float32:
        helpers.assert_layout_like_torch(out, x, w, b, **geometry)


@pytest.mark.parametrize("geometry", [
    pytest.param(dict(), id="base"),
    pytest.param(dict(stride=(2, 3), padding=1, output_padding=(1, 2), dilation=(1, 2)), id="mixed"),
    pytest.param(dict(groups=2), id="g2"),
])
def test_empty_batch(geometry, dtype, device, helpers):
    groups = geometry.get("groups", 1)
    x, w, b = helpers.make_inputs(22, n=0, groups=groups, dtype=dtype, device=device)
    assert x.shape[0] == 0
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    ref = helpers.reference(x, w, b, **geometry)
    assert ref.shape[0] == 0 and ref.shape[1:] == (3 * groups,) + ref.shape[2:]
    helpers.assert_close_to_reference(out, ref, dtype, device)


def _strided_variants(dtype, seed, device="cpu"):
    """(id, input, weight, bias) with non-contiguous / offset / expanded tensors."""
    r = lambda shape, k: torch.randn(*shape, generator=torch.Generator().manual_seed(seed + k),  # noqa: E731
                                     dtype=torch.float64).to(device=device, dtype=dtype)
    x, w, b = r((2, 4, 5, 6), 0), r((4, 3, 3, 2), 1), r((3,), 2)
    return dict((v[0], v[1:]) for v in [
        ("x_transposed_hw", r((2, 4, 6, 5), 3).transpose(2, 3), w, b),
        ("x_sliced", r((3, 8, 6, 12), 4)[1:, ::2, 1:, ::2], w, b),
        ("x_storage_offset", r((3, 4, 5, 6), 5)[1:], w, b),
        ("x_expanded_batch", r((1, 4, 5, 6), 6).expand(2, 4, 5, 6), w, b),
        ("x_permuted_nhwc", r((2, 5, 6, 4), 7).permute(0, 3, 1, 2), w, b),
        ("x_channels_sliced_nhwc", r((2, 5, 6, 8), 8).permute(0, 3, 1, 2)[:, 1::2], w, b),
        ("w_transposed_khkw", x, r((4, 3, 2, 3), 9).transpose(2, 3), b),
        ("w_sliced", x, r((4, 6, 3, 2), 10)[:, ::2], b),
        ("w_transposed_io", x, r((3, 4, 3, 2), 11).transpose(0, 1), b),
        ("b_strided", x, w, r((6,), 12)[1::2]),
        ("all", r((2, 4, 6, 5), 13).transpose(2, 3), r((3, 4, 3, 2), 14).transpose(0, 1), r((6,), 15)[::2]),
    ])


STRIDED_VARIANTS = list(_strided_variants(torch.float32, 0))


@pytest.mark.parametrize("variant", STRIDED_VARIANTS)
@pytest.mark.parametrize("geometry", [
    pytest.param(dict(stride=2, padding=(1, 0), output_padding=1), id="s2"),
    pytest.param(dict(dilation=(2, 1), padding=1), id="d2x1"),
])
def test_noncontiguous_inputs(variant, geometry, dtype, device, helpers):
    x, w, b = _strided_variants(dtype, 31, device)[variant]
    assert any(not t.is_contiguous() or t.storage_offset() != 0 for t in (x, w, b))
    before = [t.clone() for t in (x, w, b)]
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    for t, saved in zip((x, w, b), before):
        assert torch.equal(t, saved), "inputs must not be modified"
    if dtype == torch.float32:
        helpers.assert_layout_like_torch(out, x, w, b, **geometry)


@pytest.mark.parametrize("x_cl, w_cl", [(True, False), (False, True), (True, True)],
                         ids=["input_cl", "weight_cl", "both_cl"])
@pytest.mark.parametrize("geometry", [
    pytest.param(dict(stride=2, padding=1, output_padding=1), id="s2"),
    pytest.param(dict(stride=(1, 2), dilation=(2, 1), padding=(1, 0), groups=2), id="g2-d2x1"),
])
def test_channels_last(x_cl, w_cl, geometry, dtype, device, helpers):
    groups = geometry.get("groups", 1)
    x, w, b = helpers.make_inputs(41, cin=4, cout=3, groups=groups, kernel=(3, 2), size=(5, 6), dtype=dtype,
                                  device=device)
    if x_cl:
        x = x.to(memory_format=CL)
    if w_cl:
        w = w.to(memory_format=CL)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    # Documented rule (torch >= 2's behaviour): channels_last in -> channels_last out.
    assert out.is_contiguous(memory_format=CL)
    if dtype == torch.float32:
        helpers.assert_layout_like_torch(out, x, w, b, **geometry)


def test_channels_last_unbatched_views(dtype, helpers):
    # An HWC image seen as CHW, and a channels_last weight, without a batch dim.
    x = helpers.randn((5, 6, 4), 42, dtype).permute(2, 0, 1)
    w = helpers.randn((4, 3, 3, 2), 43, dtype).to(memory_format=CL)
    b = helpers.randn((3,), 44, dtype)
    out = gemm_convt.conv_transpose2d(x, w, b, stride=2)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, stride=2), dtype)
    assert helpers.is_channels_last(out)
    if dtype == torch.float32:
        helpers.assert_layout_like_torch(out, x, w, b, stride=2)


ARGUMENT_FORMS = [
    pytest.param(dict(stride=2, padding=1, output_padding=1, dilation=1), id="ints"),
    pytest.param(dict(stride=(2,), padding=(1,), output_padding=(1,), dilation=(1,)), id="1-tuples"),
    pytest.param(dict(stride=[2], padding=[1], output_padding=[1], dilation=[1]), id="1-lists"),
    pytest.param(dict(stride=(2, 2), padding=(1, 1), output_padding=(1, 1), dilation=(1, 1)), id="2-tuples"),
    pytest.param(dict(stride=[2, 2], padding=[1, 1], output_padding=[1, 1], dilation=[1, 1]), id="2-lists"),
    pytest.param(dict(stride=torch.Size([2, 2]), padding=torch.Size([1]), output_padding=[1, 1], dilation=(1,)),
                 id="mixed-with-size"),
]


@pytest.mark.parametrize("forms", ARGUMENT_FORMS)
def test_argument_forms(forms, helpers):
    x, w, b = helpers.make_inputs(51, dtype=torch.float64)
    canonical = dict(stride=(2, 2), padding=(1, 1), output_padding=(1, 1), dilation=(1, 1))
    out = gemm_convt.conv_transpose2d(x, w, b, groups=1, **forms)
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **canonical))
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **canonical), torch.float64)


@pytest.mark.parametrize("forms, canonical", [
    pytest.param(dict(stride=(2, 3), padding=[0, 1], output_padding=(1, 2), dilation=[2, 1]),
                 dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2), dilation=(2, 1)), id="2-values"),
    pytest.param(dict(stride=[3], padding=(2,), output_padding=2, dilation=(2,)),
                 dict(stride=(3, 3), padding=(2, 2), output_padding=(2, 2), dilation=(2, 2)), id="1-value"),
])
def test_asymmetric_argument_forms(forms, canonical, helpers):
    x, w, b = helpers.make_inputs(52, dtype=torch.float64, kernel=(3, 2))
    out = gemm_convt.conv_transpose2d(x, w, b, **forms)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **canonical), torch.float64)


# --- chunking: the columns workspace is processed piece by piece ---------------

CHUNK_N, CHUNK_GROUPS, CHUNK_COUT, CHUNK_K, CHUNK_SIZE = 3, 2, 3, (3, 2), (4, 5)


def _column_element_size(dtype, device):
    """Bytes of one column value: half types have float32 columns on the CPU and
    their own dtype on CUDA (the default)."""
    return dtype.itemsize if device == "cuda" else (8 if dtype == torch.float64 else 4)


def _column_bytes(dtype, unit, device="cpu"):
    """Bytes of the columns for one output channel / group / sample / batch."""
    elem = _column_element_size(dtype, device)
    plane = CHUNK_K[0] * CHUNK_K[1] * CHUNK_SIZE[0] * CHUNK_SIZE[1] * elem
    return {"channel": plane, "group": CHUNK_COUT * plane, "sample": CHUNK_GROUPS * CHUNK_COUT * plane,
            "batch": CHUNK_N * CHUNK_GROUPS * CHUNK_COUT * plane}[unit]


def _gemm_col2im_only(limit, dtype, device):
    """GEMM + col2im, the path under test (no direct path), with a workspace of `limit`
    column values when given."""
    for off in (gemm_convt.set_direct_gather, gemm_convt.set_implicit_gemm, gemm_convt.set_disjoint_taps):
        off(False)
    if limit is not None:  # column values -> bytes
        gemm_convt.set_workspace_limit(limit * _column_element_size(dtype, device))


WORKSPACE_LIMITS = [
    pytest.param(lambda dt: 1, id="1-byte"),
    pytest.param(lambda dt: 300, id="300-bytes"),
    pytest.param(lambda dt: _column_bytes(dt, "channel") * 2 - 1, id="1-channel"),
    pytest.param(lambda dt: _column_bytes(dt, "channel") * 2, id="2-channels"),
    pytest.param(lambda dt: _column_bytes(dt, "group") + 1, id="1-group"),
    pytest.param(lambda dt: _column_bytes(dt, "sample") * 3 // 2, id="1-sample"),
    pytest.param(lambda dt: _column_bytes(dt, "sample") * 2, id="2-samples"),
    pytest.param(lambda dt: _column_bytes(dt, "batch"), id="whole-batch"),
    pytest.param(lambda dt: None, id="default"),
]


@pytest.mark.parametrize("limit", WORKSPACE_LIMITS)
@pytest.mark.parametrize("geometry", [
    pytest.param(dict(stride=2, padding=1, output_padding=1, groups=CHUNK_GROUPS), id="s2"),
    pytest.param(dict(stride=(1, 3), dilation=(2, 1), output_padding=(1, 2), groups=CHUNK_GROUPS), id="d2x1"),
])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "cl"])
def test_workspace_chunking(limit, geometry, channels_last, dtype, device, helpers):
    x, w, b = helpers.make_inputs(61, n=CHUNK_N, cin=4, cout=CHUNK_COUT, groups=CHUNK_GROUPS, kernel=CHUNK_K,
                                  size=CHUNK_SIZE, dtype=dtype, device=device)
    if channels_last:
        x = x.to(memory_format=CL)
    gemm_convt.set_workspace_limit(limit(dtype))
    if limit(dtype) is not None:
        assert gemm_convt.get_workspace_limit() == limit(dtype)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    assert out.is_contiguous(memory_format=CL) == channels_last
    # The same limit gives the same bits again (workspace reuse is not order-dependent).
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **geometry))


# channels_last outputs with >= 8 channels per chunk: col2im takes its work items in
# tiles of output columns x channels (col2im.h), stored channel-fastest on CUDA.
# Output widths below, at and past a tile's 8-32 column lanes, channel counts that
# leave a partial tile, groups, bands and chunks of channels. (On the CPU a broken
# tile walk fails the cases wider than their lanes: a mutation fails 5 of 6.)
TILED_COL2IM_CASES = [
    pytest.param(dict(cin=6, cout=8, size=(3, 2)), dict(stride=2, padding=1), None, id="w4-c8"),
    pytest.param(dict(cin=5, cout=11, size=(4, 7)), dict(stride=2, padding=1, output_padding=1), None,
                 id="w16-c11"),
    pytest.param(dict(cin=4, cout=20, size=(3, 13), groups=2), dict(stride=(1, 3), dilation=(2, 1), groups=2),
                 None, id="w40-c20-g2"),
    pytest.param(dict(cin=3, cout=40, size=(5, 9), bias=False), dict(stride=(2, 4), padding=(0, 1)), None,
                 id="w36-c40-nobias"),
    # limits in column values, two chunk buffers of them: ~4 input rows of all 9
    # channels (bands), ~12 channels of two input rows (channel chunks of one row)
    pytest.param(dict(cin=4, cout=9, size=(9, 12)), dict(stride=2, padding=1), 2 * 4 * 9 * 16 * 12,
                 id="w24-c9-bands"),
    pytest.param(dict(cin=4, cout=24, size=(4, 20)), dict(stride=2, padding=1), 2 * 12 * 2 * 16 * 20,
                 id="w40-c24-channel-chunks"),
]


@pytest.mark.parametrize("shape, geometry, limit", TILED_COL2IM_CASES)
def test_channels_last_tiled_col2im(shape, geometry, limit, dtype, device, helpers):
    x, w, b = helpers.make_inputs(71, n=3, kernel=4, dtype=dtype, device=device, **shape)
    x = x.to(memory_format=CL)
    _gemm_col2im_only(limit, dtype, device)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    assert out.is_contiguous(memory_format=CL)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **geometry))


# Taps that never overlap on either axis (dilated kernel within the stride): col2im
# copies runs of rows, each pixel its bias plus at most one column value (col2im.h's
# col2im_run). Cells with gaps on both axes, offsets past a whole cell, output_padding,
# groups, no bias, 1x1 kernels with dilation over the stride, wide rows, and bands of
# output rows.
RUN_COL2IM_CASES = [
    pytest.param(dict(kernel=3, size=(4, 7)), dict(stride=5, padding=1, dilation=2), None, id="k3-d2-s5"),
    pytest.param(dict(kernel=2, size=(3, 5), groups=2, cin=4, cout=3),
                 dict(stride=3, dilation=2, output_padding=(2, 1), groups=2), None, id="k2-d2-s3-op-g2"),
    pytest.param(dict(kernel=1, size=(5, 4)), dict(stride=(3, 2), dilation=(5, 7), padding=(1, 0)), None,
                 id="k1-d5x7-s3x2"),
    pytest.param(dict(kernel=(2, 3), size=(4, 6), bias=False), dict(stride=(2, 3), padding=(1, 2)), None,
                 id="k2x3-s2x3-nobias"),
    pytest.param(dict(kernel=2, size=(3, 4)), dict(stride=4, padding=5, output_padding=3), None,
                 id="k2-s4-p5-op3"),
    # 156 output columns: rows wider than a warp of runs, the last warp partial
    pytest.param(dict(kernel=2, size=(3, 40)), dict(stride=(2, 4), padding=(0, 1)), None, id="k2-s2x4-w156"),
    # about two input rows of all 3 channels per chunk buffer: bands of output rows
    pytest.param(dict(kernel=3, size=(7, 5)), dict(stride=5, padding=1, dilation=2), 2 * 2 * 3 * 9 * 5,
                 id="k3-d2-s5-bands"),
]


@pytest.mark.parametrize("shape, geometry, limit", RUN_COL2IM_CASES)
def test_disjoint_taps_col2im_runs(shape, geometry, limit, dtype, device, helpers):
    x, w, b = helpers.make_inputs(83, n=2, **dict(dict(cin=3, cout=3), **shape), dtype=dtype, device=device)
    _gemm_col2im_only(limit, dtype, device)
    if device == "cuda":
        with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
            out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
            torch.cuda.synchronize()
        assert any("col2im_runs_kernel" in e.name for e in prof.events()), "the case must reach the runs"
    else:
        out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **geometry))


# One sample over budget: bands of output rows, each with the input rows its
# outputs need (rows feeding two bands are computed for both).
BAND_GEOMETRIES = [
    pytest.param(dict(kernel=3), dict(padding=1), id="k3-p1"),
    pytest.param(dict(kernel=4), dict(stride=2, padding=1, output_padding=1), id="k4-s2"),
    pytest.param(dict(kernel=(2, 3)), dict(stride=(3, 2), dilation=2), id="k2-s3-d2-gaps"),
    pytest.param(dict(kernel=(5, 3)), dict(stride=(1, 2), padding=(5, 1), dilation=(2, 1)), id="pad-over-reach"),
    pytest.param(dict(kernel=(3, 1)), dict(stride=(2, 1), padding=(0, 0), dilation=(3, 1), output_padding=(2, 0)),
                 id="d3-s2-op2"),
    pytest.param(dict(kernel=1), dict(stride=3), id="k1-s3"),
]


@pytest.mark.parametrize("rows", [1, 2, 3, 5], ids=lambda r: "%d-rows" % r)
@pytest.mark.parametrize("shape, geometry", BAND_GEOMETRIES)
def test_band_chunking(rows, shape, geometry, device, helpers):
    """Workspace caps of a few input rows of all channels of one sample."""
    dtype = torch.float64
    x, w, b = helpers.make_inputs(62, n=2, cin=3, cout=4, size=(11, 7), dtype=dtype, device=device, **shape)
    kh, kw = w.shape[2:]
    gemm_convt.set_workspace_limit(rows * 4 * kh * kw * 7 * 8)  # rows x (Cout*kh*kw*W) float64 columns
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)


# Width folding (each width phase's landing taps in the GEMM's contraction)
# against plain columns, forced either way.
FOLD_GEOMETRIES = [
    pytest.param(dict(kernel=(3, 5)), dict(padding=(1, 2)), id="k3x5-s1"),
    pytest.param(dict(kernel=(2, 3), groups=2), dict(stride=(2, 3), padding=(0, 1), output_padding=(1, 2),
                                                     dilation=(1, 2), groups=2), id="g2-s3-d2"),
    pytest.param(dict(kernel=(3, 4)), dict(stride=(1, 2), padding=(2, 3), dilation=(1, 3)), id="pad-d3"),
    pytest.param(dict(kernel=(1, 3), size=(5, 1)), dict(padding=(0, 1)), id="w1"),
    # stride phases along w: two taps on each (DCGAN's 4x4 s2 p1), 2 and 1
    # taps with an output_padding column, phases of unequal length (out_w % 3).
    pytest.param(dict(kernel=4), dict(stride=2, padding=1), id="k4-s2"),
    pytest.param(dict(kernel=3), dict(stride=2, padding=1, output_padding=1), id="k3-s2-op1"),
    pytest.param(dict(kernel=(2, 5)), dict(stride=(1, 3), padding=(0, 2), output_padding=(0, 1)), id="s3-uneven"),
]


@pytest.mark.parametrize("fold", [True, False], ids=["folded", "plain"])
@pytest.mark.parametrize("limit", [None, 700], ids=["whole", "banded"])
@pytest.mark.parametrize("channels_last", [False, True], ids=["nchw", "cl"])
@pytest.mark.parametrize("shape, geometry", FOLD_GEOMETRIES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16], ids=["float64", "float32",
                                                                                        "float16"])
def test_width_folding(fold, limit, channels_last, shape, geometry, dtype, device, helpers):
    x, w, b = helpers.make_inputs(63, n=2, cin=4, cout=3, dtype=dtype, device=device,
                                  **dict(dict(size=(6, 7)), **shape))
    if channels_last:
        x = x.to(memory_format=CL)
    gemm_convt.set_width_folding(fold)
    gemm_convt.set_workspace_limit(limit)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **geometry))


# --- results never depend on uninitialised memory ----------------------------

POISON_CASES = [
    pytest.param(dict(kernel=2), dict(stride=4), None, id="gaps-s4-k2"),
    pytest.param(dict(groups=2, kernel=(3, 2)), dict(stride=(2, 3), padding=1, output_padding=(1, 2), groups=2),
                 None, id="g2"),
    pytest.param(dict(groups=2, kernel=(3, 2)), dict(stride=2, dilation=(1, 2), groups=2), 1, id="g2-chunked"),
    pytest.param(dict(cin=8, cout=6, size=(12, 10)), dict(stride=2, padding=1, output_padding=1), None,
                 id="medium"),
]


def _dirty_heap(numel, device):
    """Free NaN-filled blocks of about the output's size so that the allocator
    is likely to hand the same (dirty) memory to the next allocation."""
    for k in (numel, numel + 1, 2 * numel, numel // 2 + 1):
        junk = torch.full((k,), float("nan"), dtype=torch.float64, device=device)
        del junk


@pytest.mark.parametrize("shape, geometry, limit", POISON_CASES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16], ids=["float64", "float32",
                                                                                         "bfloat16"])
def test_rerun_is_bitwise_identical(shape, geometry, limit, dtype, device, helpers):
    x, w, b = helpers.make_inputs(71, dtype=dtype, device=device, **shape)
    gemm_convt.set_workspace_limit(limit)
    first = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    results = []
    for channels_last in (False, True):
        _dirty_heap(first.numel(), device)
        xi = x.to(memory_format=CL) if channels_last else x
        results.append(gemm_convt.conv_transpose2d(xi, w, b, **geometry))
    helpers.assert_close_to_reference(first, helpers.reference(x, w, b, **geometry), dtype, device)
    assert torch.equal(first, results[0])
    helpers.assert_close_to_reference(results[1], helpers.reference(x, w, b, **geometry), dtype, device)
    assert torch.equal(results[1], gemm_convt.conv_transpose2d(x.to(memory_format=CL), w, b, **geometry))


deterministic_fill = getattr(getattr(torch.utils, "deterministic", None), "fill_uninitialized_memory", None)


@pytest.mark.skipif(deterministic_fill is None,
                    reason="torch.utils.deterministic.fill_uninitialized_memory needs torch >= 2.1")
@pytest.mark.parametrize("shape, geometry, limit", POISON_CASES)
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.float16], ids=["float64", "float32",
                                                                                        "float16"])
def test_poisoned_allocations(shape, geometry, limit, dtype, device, helpers):
    """With deterministic algorithms on, torch fills every new (output and
    workspace) allocation with NaN: an element the kernel forgets to write, or
    a stale column it reads, shows up as NaN."""
    x, w, b = helpers.make_inputs(72, dtype=dtype, device=device, **shape)
    gemm_convt.set_workspace_limit(limit)
    was_deterministic = torch.are_deterministic_algorithms_enabled()
    was_filling = torch.utils.deterministic.fill_uninitialized_memory
    try:
        torch.use_deterministic_algorithms(True)
        torch.utils.deterministic.fill_uninitialized_memory = True
        assert torch.isnan(torch.empty(16, dtype=dtype, device=device)).all(), "poisoning is not active"
        out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
        out_cl = gemm_convt.conv_transpose2d(x.to(memory_format=CL), w, b, **geometry)
    finally:
        torch.use_deterministic_algorithms(was_deterministic)
        torch.utils.deterministic.fill_uninitialized_memory = was_filling
    ref = helpers.reference(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, ref, dtype, device)
    helpers.assert_close_to_reference(out_cl, ref, dtype, device)


# --- an inf or NaN weight at taps that miss the input -------------------------

def select_cpu_path(path):
    """The CPU decomposition the call takes: "plain" columns, "folded" (width folded into
    the GEMM), "implicit" (the implicit GEMM's walk) or "gather" (the direct gather)."""
    gemm_convt.set_width_folding(path == "folded")
    gemm_convt.set_implicit_gemm(path == "implicit")
    gemm_convt.set_direct_gather(path == "gather")


@pytest.mark.parametrize("path", ["plain", "folded", "implicit", "gather"])
@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
@pytest.mark.parametrize("case", [0, 1])
def test_non_finite_weight_at_border_taps(case, path, dtype, helpers):
    """Taps that miss the input at the border (padding) add nothing there, whatever the
    weight holds: NaN, +inf and -inf land exactly where torch's float64 result has them, on
    every CPU path (the width fold, whose unfolded input is zero there, takes plain columns
    for such a weight). test_cuda.py has the CUDA twin."""
    x, w, b, geometry = helpers.non_finite_border_case(case, dtype, "cpu")
    select_cpu_path(path)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    ref = helpers.reference(x, w, b, **geometry)
    assert torch.isnan(ref).any() and torch.isposinf(ref).any() and torch.isneginf(ref).any()
    helpers.assert_non_finite_like(out, ref, 1e-12 if dtype == torch.float64 else 1e-5)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_non_finite_disjoint_taps_gather_rows(dtype, helpers):
    """The gather's row form with NaN, +inf and -inf weights and outputs whose tap misses
    the input: non-finite values where torch's float64 result has them (test_cuda.py has the
    CUDA twin)."""
    x, w, b, geometry = helpers.non_finite_disjoint_case(dtype, "cpu")
    select_cpu_path("gather")
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    ref = helpers.reference(x, w, b, **geometry)
    assert torch.isnan(ref).any() and torch.isposinf(ref).any() and torch.isneginf(ref).any()
    helpers.assert_non_finite_like(out, ref, 1e-12 if dtype == torch.float64 else 1e-5)


# Where our gradients' NaN differ from torch's (NOTES.md, session 29): torch's backward is a
# zero-padded correlation, so 0 x inf gives NaN at positions no tap joins; the implicit GEMM's
# backward (grad_input's derived forward at stride 1, grad_weight's implicit kernel) adds only
# the products that the forward has.
IMPLICIT_GRADIENT_DEVIATIONS = {("weight", 1), ("input", 0), ("input", 1)}


@pytest.mark.parametrize("path", ["plain", "folded", "gather", "implicit"])
@pytest.mark.parametrize("planted, case", [("weight", 0), ("weight", 1), ("input", 0), ("input", 1)])
def test_non_finite_at_missing_taps_gradients(planted, case, path, helpers, request):
    """The output and gradients of two cases whose non-finite values sit where no tap joins
    them (a weight's corner tap at the padding; input pixels that reach no output): NaN, +inf
    and -inf where torch's float64 autograd has them, and finite values close to it."""
    if path == "implicit" and (planted, case) in IMPLICIT_GRADIENT_DEVIATIONS:
        request.applymarker(pytest.mark.xfail(strict=True, reason="known deviation: the implicit "
                                              "GEMM's backward adds no 0 x inf (see above)"))
    make_case = helpers.non_finite_border_case if planted == "weight" else helpers.non_finite_edge_input_case
    x, w, b, geometry = make_case(case, torch.float64, "cpu")
    select_cpu_path(path)
    grad = helpers.randn(torch.nn.functional.conv_transpose2d(x, w, b, **geometry).shape, 95, torch.float64)

    def output_and_gradients(conv):
        leaves = [t.detach().clone().requires_grad_() for t in (x, w, b)]
        out = conv(*leaves, **geometry)
        out.backward(grad)
        return [out.detach()] + [t.grad for t in leaves]

    refs = output_and_gradients(torch.nn.functional.conv_transpose2d)
    assert any(torch.isnan(ref).any() for ref in refs)
    for ours, ref in zip(output_and_gradients(gemm_convt.conv_transpose2d), refs):
        if torch.isfinite(ref).all():
            helpers.assert_close_to_reference(ours, ref, torch.float64)
        else:
            helpers.assert_non_finite_like(ours, ref, 1e-12)
