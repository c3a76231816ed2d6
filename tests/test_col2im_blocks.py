"""col2im's block items for width-folded columns (include/gemm_convt/col2im_block.h):
each work item a block of up to 16 output columns, every phase plane's run one
vector load per row on the GPU. The block walk must give the item walk's sums in
the same order, so each case checks the float64 reference and bitwise equality
with blocks off, and the test hook says which walk the case takes (on the CPU:
samples side by side in one chunk, or bands under a small workspace). The
h-phase cell ranges (col2im.h's phase_cells) are the item walk's too: strides 2
and 3 over bands."""
import pytest
import torch

import gemm_convt
from gemm_convt._native import _C


def _path_under_test(device, fold):
    """GEMM + col2im only, folding as asked (the other paths would skip col2im)."""
    gemm_convt.set_direct_gather(False)
    gemm_convt.set_implicit_gemm(False)
    gemm_convt.set_disjoint_taps(False)
    gemm_convt.set_width_folding(fold)


def _block_groups(x, w, geometry, column_bytes, fold):
    pair = lambda v: list(v) if isinstance(v, (tuple, list)) else [v, v]  # noqa: E731
    return _C._col2im_block_groups(
        list(x.shape), list(w.shape), pair(geometry.get("stride", 1)), pair(geometry.get("padding", 0)),
        pair(geometry.get("output_padding", 0)), pair(geometry.get("dilation", 1)),
        geometry.get("groups", 1), column_bytes, fold)


# (inputs, geometry, fold, workspace limit in column values or None, G on the CPU)
CASES = [
    # width folded, stride 2: two phase planes, one run per plane and row
    pytest.param(dict(cin=5, cout=6, kernel=4, size=(6, 16)), dict(stride=2, padding=1), True, None, 2,
                 id="fold-k4-s2"),
    # stride 1: one plane
    pytest.param(dict(cin=4, cout=5, kernel=3, size=(5, 16)), dict(stride=1, padding=1), True, None, 1,
                 id="fold-k3-s1"),
    pytest.param(dict(cin=3, cout=4, kernel=5, size=(4, 16)), dict(stride=1, padding=2, dilation=2), True,
                 None, 1, id="fold-k5-s1-d2"),
    # 31 output columns: planes of 16 and 15 positions, a partial last block
    pytest.param(dict(cin=3, cout=4, kernel=4, size=(5, 15)), dict(stride=2, padding=1, output_padding=1),
                 True, None, 2, id="fold-k4-s2-w31"),
    # dilation 2 at stride 2 along w: phase 1 takes no width tap (its plane contracts zeros)
    pytest.param(dict(cin=4, cout=3, kernel=3, size=(5, 16)), dict(stride=2, padding=2, dilation=2), True,
                 None, 2, id="fold-k3-s2-d2"),
    # h stride 2 over a w stride 1, groups, no bias
    pytest.param(dict(cin=4, cout=3, kernel=(3, 5), size=(6, 16), groups=2, bias=False),
                 dict(stride=(2, 1), padding=(1, 2), groups=2), True, None, 1, id="fold-k3x5-s2x1-g2-nobias"),
    # h stride 3 (three h phases, bands' phases owning unequal cells), w stride 2
    pytest.param(dict(cin=3, cout=4, kernel=(5, 4), size=(7, 16)), dict(stride=(3, 2), padding=(2, 1)), True,
                 None, 2, id="fold-k5x4-s3x2"),
    # bands of input rows (~3 rows of all channels per chunk): tiles masked at band edges
    pytest.param(dict(cin=4, cout=5, kernel=4, size=(12, 16)), dict(stride=2, padding=1), True,
                 2 * 5 * 4 * 3 * 32, 2, id="fold-k4-s2-bands"),
    pytest.param(dict(cin=4, cout=5, kernel=(5, 4), size=(12, 16)), dict(stride=(3, 2), padding=(2, 1)), True,
                 2 * 5 * 5 * 3 * 32, 2, id="fold-k5x4-s3x2-bands"),
    # where blocks do not apply: unfolded columns, a width stride of 3, folded planes of 9
    pytest.param(dict(cin=5, cout=6, kernel=4, size=(6, 16)), dict(stride=2, padding=1), False, None, 0,
                 id="k4-s2-items"),
    pytest.param(dict(cin=3, cout=4, kernel=4, size=(5, 8)), dict(stride=3, padding=1), True, None, 0,
                 id="fold-k4-s3-items"),
    pytest.param(dict(cin=3, cout=4, kernel=4, size=(5, 8)), dict(stride=2, padding=1, output_padding=1),
                 True, None, 0, id="fold-k4-s2-w17-items"),
]


@pytest.mark.parametrize("shape, geometry, fold, limit, groups", CASES)
def test_block_walk_matches_item_walk(shape, geometry, fold, limit, groups, dtype, device, helpers):
    x, w, b = helpers.make_inputs(83, n=3, dtype=dtype, device=device, **shape)
    cpu_column_bytes = 8 if dtype == torch.float64 else 4
    assert _block_groups(x, w, geometry, cpu_column_bytes, fold) == groups
    _path_under_test(device, fold)
    if limit is not None:
        gemm_convt.set_workspace_limit(limit * cpu_column_bytes)
    out = gemm_convt.conv_transpose2d(x, w, b, **geometry)
    helpers.assert_close_to_reference(out, helpers.reference(x, w, b, **geometry), dtype, device)
    _C._set_col2im_blocks(False)
    assert torch.equal(out, gemm_convt.conv_transpose2d(x, w, b, **geometry))
