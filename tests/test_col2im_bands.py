"""col2im over band tiles (include/gemm_convt/col2im_bands.h): each tile's column
runs staged (the GPU: bulk copies into shared memory), then summed by the item
walk's own tile sums. Each case checks the float64 reference and bitwise equality
with bands off (the item walk), and the test hook says that the case takes band
tiles (the CPU's plan for the whole batch in one chunk; CUDA takes them on sm90
and later). Cases cover strides 1-3, dilation, groups, output padding, odd widths
(runs starting inside a 16-byte unit), several channels a tile with a partial
last one, and chunks of input-row bands (a tile's rows clipped to the chunk's)."""
import pytest
import torch

import gemm_convt
from gemm_convt._native import _C


def _unfolded_columns_path():
    """GEMM + col2im on unfolded columns (the other paths would skip col2im)."""
    gemm_convt.set_direct_gather(False)
    gemm_convt.set_implicit_gemm(False)
    gemm_convt.set_disjoint_taps(False)
    gemm_convt.set_width_folding(False)


def _pair(v):
    return list(v) if isinstance(v, (tuple, list)) else [v, v]


def _band_plan(x, w, geometry, column_bytes):
    return _C._col2im_band_plan(
        list(x.shape), list(w.shape), _pair(geometry.get("stride", 1)), _pair(geometry.get("padding", 0)),
        _pair(geometry.get("output_padding", 0)), _pair(geometry.get("dilation", 1)),
        geometry.get("groups", 1), column_bytes)


# (inputs, geometry, workspace limit in column values or None)
CASES = [
    pytest.param(dict(cin=5, cout=6, kernel=4, size=(6, 16)), dict(stride=2, padding=1), None, id="k4-s2"),
    pytest.param(dict(cin=4, cout=5, kernel=3, size=(5, 13)), dict(stride=1, padding=1), None, id="k3-s1-w13"),
    pytest.param(dict(cin=3, cout=4, kernel=3, size=(6, 11)), dict(stride=2, padding=2, dilation=2), None,
                 id="k3-s2-d2-w11"),
    pytest.param(dict(cin=4, cout=3, kernel=(3, 5), size=(6, 9), groups=2, bias=False),
                 dict(stride=(2, 1), padding=(1, 2), groups=2), None, id="k3x5-s2x1-g2-nobias"),
    pytest.param(dict(cin=3, cout=4, kernel=(5, 4), size=(7, 10)),
                 dict(stride=(3, 2), padding=(2, 1), output_padding=(1, 1)), None, id="k5x4-s3x2-op"),
    # small planes: a tile takes all rows of 3 samples (runs joined) and 7 channels
    pytest.param(dict(cin=6, cout=7, kernel=4, size=(3, 3)), dict(stride=2, padding=1), None, id="k4-s2-c7-3x3"),
    # 8 samples a tile over 11: a partial last sample tile
    pytest.param(dict(n=11, cin=3, cout=2, kernel=4, size=(4, 8)), dict(stride=2, padding=1), None,
                 id="k4-s2-n11-4x8"),
    # stride 1, dilation 2, 7x7 planes: 2 samples x 9 channels a tile, 11 channels leaving 2
    pytest.param(dict(n=2, cin=2, cout=11, kernel=3, size=(5, 5)), dict(stride=1, padding=1, dilation=2), None,
                 id="k3-s1-d2-c11-5x5"),
    # chunks of ~3 input rows of all channels: tiles' input rows clipped to the chunk's
    pytest.param(dict(cin=4, cout=5, kernel=4, size=(12, 15)), dict(stride=2, padding=1),
                 2 * 5 * 16 * 3 * 15, id="k4-s2-row-bands"),
    pytest.param(dict(cin=3, cout=4, kernel=(5, 3), size=(11, 7)), dict(stride=(3, 1), padding=(3, 1)),
                 2 * 4 * 15 * 3 * 7, id="k5x3-s3x1-row-bands"),
]


@pytest.mark.parametrize("shape, geometry, limit", CASES)
def test_band_walk_matches_item_walk(shape, geometry, limit, dtype, device, helpers):
    shape = dict(shape)
    x, w, b = helpers.make_inputs(91, n=shape.pop("n", 3), dtype=dtype, device=device, **shape)
    cpu_column_bytes = 8 if dtype == torch.float64 else 4
    rows, channels, samples = _band_plan(x, w, geometry, cpu_column_bytes)
    assert rows > 0 and channels > 0 and samples > 0
    _unfolded_columns_path()
    if limit is not None:
        gemm_convt.set_workspace_limit(limit * cpu_column_bytes)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    _C._set_col2im_bands(False)
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **geometry))


def test_band_plan_rule():
    """Plans seen from the rule's side, (output rows, channels, samples) a tile:
    small planes take all their rows and join samples, then channels, to fill
    256 items within the staging limit; larger planes take kTileRows cells of
    each phase and channels; a tile whose staging would not fit 26 KB gets none
    (the item walk)."""
    plan = lambda *sizes: _C._col2im_band_plan(*sizes)  # noqa: E731
    # 4x4 stride 2 on 4x4 inputs (dcgan's shape, smaller): 8 output rows x 8 columns,
    # 2 phases x 1 segment x 8 = 16 items a plane: 16 samples would fill 256, 2 exist
    assert plan([2, 8, 4, 4], [8, 24, 4, 4], [2, 2], [1, 1], [0, 0], [1, 1], 1, 4) == (8, 8, 2)
    assert plan([32, 8, 4, 4], [8, 9, 4, 4], [2, 2], [1, 1], [0, 0], [1, 1], 1, 4) == (8, 1, 16)
    # dcgan: 8x8 inputs, 16x16 outputs: 2 phases x 2 segments x 16 = 64 items, 4 samples
    assert plan([128, 8, 8, 8], [8, 4, 4, 4], [2, 2], [1, 1], [0, 0], [1, 1], 1, 4) == (16, 1, 4)
    # 64 columns at stride 2 (fcn_up's plane): 256 items a band of 8 rows, one channel
    assert plan([1, 8, 64, 64], [8, 8, 4, 4], [2, 2], [1, 1], [0, 0], [1, 1], 1, 4) == (8, 1, 1)
    # 7x7 taps over 200 columns at stride 1: 49 runs of ~10 rows do not fit
    assert plan([1, 2, 20, 200], [2, 2, 7, 7], [1, 1], [3, 3], [0, 0], [1, 1], 1, 4) == (0, 0, 0)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("dtype", [torch.float32, torch.float16], ids=["float32", "float16"])
def test_band_kernel_runs_on_sm90(dtype, helpers):
    """On sm90 and later the band kernel is what runs (a profiler sees it)."""
    if torch.cuda.get_device_capability()[0] < 9:
        pytest.skip("band tiles need the bulk copy engine (sm90)")
    x, w, b = helpers.make_inputs(5, n=2, dtype=dtype, device="cuda", cin=8, cout=8, kernel=4, size=(16, 17))
    _unfolded_columns_path()
    gemm_convt.set_allow_tf32(False)
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        out = gemm_convt.conv_transpose2d(x, w, b, stride=2, padding=1)
        torch.cuda.synchronize()
    names = [e.name for e in prof.events()]
    assert any("col2im_bands_kernel" in n for n in names), sorted(set(names))
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, stride=2, padding=1), dtype, "cuda")
