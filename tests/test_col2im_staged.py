"""col2im's staged tiles for unfolded columns (include/gemm_convt/col2im_staged.h):
each work item a tile of output pixels of one channel, whose column values are
first copied run by run into a staging buffer (GPU shared memory) and then summed
from there. The staged walk must give the item walk's sums in the same order, so
each case checks the float64 reference and bitwise equality with the item walk
(col2im's blocks switched off), and the test hook says which tile the case takes:
the CPU takes the same tiles as the GPU, so CI walks the tile and span
arithmetic."""
import pytest
import torch

import gemm_convt
from gemm_convt._native import _C


def _plain_columns_path():
    """GEMM + col2im on unfolded columns (the other paths skip col2im or fold)."""
    gemm_convt.set_direct_gather(False)
    gemm_convt.set_implicit_gemm(False)
    gemm_convt.set_disjoint_taps(False)
    gemm_convt.set_width_folding(False)


def _staged_tile(x, w, geometry, column_bytes):
    pair = lambda v: list(v) if isinstance(v, (tuple, list)) else [v, v]  # noqa: E731
    return tuple(_C._col2im_staged_tile(
        list(x.shape), list(w.shape), pair(geometry.get("stride", 1)), pair(geometry.get("padding", 0)),
        pair(geometry.get("output_padding", 0)), pair(geometry.get("dilation", 1)),
        geometry.get("groups", 1), column_bytes))


# (inputs, geometry, workspace limit in column values or None, whether staged on the CPU)
CASES = [
    # DCGAN's 4x4 stride 2: two h and two w taps per pixel
    pytest.param(dict(cin=5, cout=6, kernel=4, size=(6, 7)), dict(stride=2, padding=1), None, True,
                 id="k4-s2"),
    # stride 1: every tap of a 3x3 lands on every interior pixel
    pytest.param(dict(cin=4, cout=5, kernel=3, size=(7, 9)), dict(stride=1, padding=1), None, True,
                 id="k3-s1"),
    # KernelBench #65/#78's 3x7, asymmetric padding
    pytest.param(dict(cin=3, cout=4, kernel=(3, 7), size=(6, 11)), dict(stride=1, padding=(1, 3)), None, True,
                 id="k3x7-s1"),
    # dilation 2 at stride 2: one h phase takes no tap (bias only)
    pytest.param(dict(cin=4, cout=3, kernel=3, size=(5, 6)), dict(stride=2, padding=2, dilation=2), None, True,
                 id="k3-s2-d2"),
    # #75's groups, strides (2, 3) and dilation (2, 1), output padding
    pytest.param(dict(cin=8, cout=3, kernel=(3, 5), size=(5, 7), groups=4),
                 dict(stride=(2, 3), padding=(1, 2), dilation=(2, 1), output_padding=(1, 2), groups=4), None, True,
                 id="k3x5-s2x3-d2x1-g4-op"),
    # stride 3 over a 5x4 kernel, no bias
    pytest.param(dict(cin=3, cout=4, kernel=(5, 4), size=(6, 5), bias=False), dict(stride=3, padding=(2, 1)),
                 None, True, id="k5x4-s3-nobias"),
    # 161 output columns: two column tiles (128 and 33)
    pytest.param(dict(cin=3, cout=2, kernel=4, size=(3, 80)), dict(stride=2, padding=1, output_padding=1), None,
                 True, id="k4-s2-w161"),
    # 9x9 at stride 1 on a wide row: 81 taps halve the tile's columns to fit the staging bytes
    pytest.param(dict(cin=2, cout=2, kernel=9, size=(4, 120)), dict(stride=1, padding=4), None, True,
                 id="k9-s1-w120"),
    # bands of input rows (~3 rows of all channels per chunk): tiles cut at band edges
    pytest.param(dict(cin=4, cout=5, kernel=4, size=(12, 9)), dict(stride=2, padding=1), 5 * 16 * 3 * 9, True,
                 id="k4-s2-bands"),
    pytest.param(dict(cin=4, cout=3, kernel=(3, 7), size=(11, 10)), dict(stride=1, padding=(1, 3)),
                 3 * 21 * 3 * 10, True, id="k3x7-s1-bands"),
    # where the staged walk does not apply: a 33-wide kernel, taps that never overlap
    pytest.param(dict(cin=2, cout=3, kernel=(1, 33), size=(3, 5)), dict(stride=1), None, False, id="k1x33-items"),
    pytest.param(dict(cin=2, cout=3, kernel=2, size=(4, 5)), dict(stride=2), None, False, id="k2-s2-runs"),
]


@pytest.mark.parametrize("shape, geometry, limit, staged", CASES)
def test_staged_walk_matches_item_walk(shape, geometry, limit, staged, dtype, device, helpers):
    x, w, b = helpers.make_inputs(97, n=3, dtype=dtype, device=device, **shape)
    cpu_column_bytes = 8 if dtype == torch.float64 else 4
    tile = _staged_tile(x, w, geometry, cpu_column_bytes)
    assert (tile[0] > 0) == staged, tile
    _plain_columns_path()
    if limit is not None:
        gemm_convt.set_workspace_limit(limit * cpu_column_bytes)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    _C._set_col2im_blocks(False)
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **geometry))


def test_staged_tile_sizes():
    """The tile rule: up to 128 columns, ~2048 pixels, the staging bytes bounded."""
    shape = lambda n, c, k, h, wd: (torch.empty(n, c, h, wd, device="meta"),  # noqa: E731
                                    torch.empty(c, c, k, k, device="meta"))
    x, w = shape(16, 256, 4, 64, 64)  # fcn_up: 16 taps x 8 rows x 64 columns x 4 bytes = 32 KB
    assert _staged_tile(x, w, dict(stride=2, padding=1), 4) == (16, 128)
    assert _staged_tile(x, w, dict(stride=2, padding=1), 2) == (16, 128)
    x, w = shape(128, 512, 4, 8, 8)  # dcgan: the whole 16x16 plane
    assert _staged_tile(x, w, dict(stride=2, padding=1), 4) == (16, 16)
    x, w = shape(2, 2, 9, 4, 120)  # 81 taps: 60 columns, one staged row per tap
    assert _staged_tile(x, w, dict(stride=1, padding=4), 4) == (1, 60)
