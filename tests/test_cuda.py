"""The CUDA path against the float64 reference. Skips cleanly without a GPU
(a skip here is not a pass: scripts/gpu_check.sh runs these on a GPU)."""
import itertools
import re

import pytest
import torch
import torch.nn.functional as F

import gemm_convt

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

# Relative-error bounds ||out - ref|| / ||ref|| (ref: float64 on the same, rounded, inputs),
# and an elementwise bound scaled by max|ref|.
TOLERANCE = {
    "float64": (1e-12, 1e-11),
    "float32": (1e-5, 1e-5),      # fp32 by split operands, three TF32 products: set_fp32_split(True)
    "ieee": (1e-5, 1e-5),         # cuBLAS IEEE fp32 (SIMT) GEMM: set_fp32_split(False)
    "fp32": (1e-5, 1e-5),         # the default: split where the fold halves the columns, else IEEE
    "tf32": (5e-3, 2e-2),         # 10-bit mantissa operands
    "float16": (2e-3, 4e-3),      # fp16 columns (default): fp32 accumulation, rounded per column and at the output
    "bfloat16": (1e-2, 2e-2),     # bf16 columns (default), likewise
    "float16_f32cols": (2e-3, 4e-3),   # set_float_columns(True): one rounding, at the output
    "bfloat16_f32cols": (1e-2, 2e-2),
}
DTYPES = {"float64": torch.float64, "float32": torch.float32, "ieee": torch.float32, "fp32": torch.float32,
          "tf32": torch.float32,
          "float16": torch.float16, "bfloat16": torch.bfloat16, "float16_f32cols": torch.float16,
          "bfloat16_f32cols": torch.bfloat16}


@pytest.fixture(autouse=True)
def _restore_settings():
    yield
    gemm_convt.set_allow_tf32(None)
    gemm_convt.set_fp32_split(None)
    gemm_convt.set_float_columns(False)
    gemm_convt.set_workspace_limit(None)
    gemm_convt.set_disjoint_taps(None)
    gemm_convt.set_direct_gather(None)
    gemm_convt.set_implicit_gemm(None)
    gemm_convt.set_width_folding(None)


def make_case(seed, n, cin, cout_g, k, hw, groups, bias, dtype, device="cuda"):
    g = torch.Generator().manual_seed(seed)
    x = torch.randn(n, cin, *hw, generator=g).to(dtype)
    w = (torch.randn(cin, cout_g, *k, generator=g) / (cin * k[0] * k[1] / groups) ** 0.5).to(dtype)
    b = torch.randn(cout_g * groups, generator=g).to(dtype) if bias else None
    return x.to(device), w.to(device), (b.to(device) if bias else None)


def reference(x, w, b, **kw):
    """float64 on the CPU from the same (already rounded) inputs."""
    return F.conv_transpose2d(x.double().cpu(), w.double().cpu(), None if b is None else b.double().cpu(), **kw)


def assert_matches(out, ref, key):
    rel_tol, elem_tol = TOLERANCE[key]
    assert out.is_cuda
    assert out.shape == ref.shape
    out64 = out.double().cpu()
    assert torch.isfinite(out64).all(), "non-finite output"
    scale = ref.abs().max().clamp_min(1e-30)
    rel = ((out64 - ref).norm() / ref.norm().clamp_min(1e-30)).item()
    worst = ((out64 - ref).abs().max() / scale).item()
    assert rel <= rel_tol and worst <= elem_tol, "%s: rel %.3g (tol %g), worst %.3g (tol %g)" % (
        key, rel, rel_tol, worst, elem_tol)


def run(x, w, b, key, **kw):
    gemm_convt.set_allow_tf32(key == "tf32")
    gemm_convt.set_fp32_split({"ieee": False, "fp32": None}.get(key, True))
    gemm_convt.set_float_columns(key.endswith("_f32cols"))
    with torch.no_grad():
        return gemm_convt.conv_transpose2d(x, w, b, **kw)


def extra_bytes_of_a_call(x, w, b, key, **kw):
    """run() from an emptied cache: the output and the peak device bytes the call allocated
    beyond it (the blocks the allocator held for its buffers, as torch's statistics count them)."""
    torch.cuda.synchronize()
    torch.cuda.empty_cache()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    out = run(x, w, b, key, **kw)
    torch.cuda.synchronize()
    return out, torch.cuda.max_memory_allocated() - before - out.numel() * out.element_size()


def run_profiled(x, w, b, key, **kw):
    """run() under the CUDA profiler: the output and the names of the kernels it launched."""
    with torch.profiler.profile(activities=[torch.profiler.ProfilerActivity.CUDA]) as prof:
        out = run(x, w, b, key, **kw)
        torch.cuda.synchronize()
    return out, [e.name for e in prof.events()]


# (N, Cin, Cout/groups, kernel, input HxW, stride, padding, output_padding, dilation, groups, bias)
GRID = [
    (2, 4, 3, (3, 3), (7, 9), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),
    (2, 6, 2, (3, 5), (5, 6), (2, 3), (1, 2), (1, 2), (1, 1), 2, True),
    (1, 4, 4, (2, 2), (8, 8), (2, 2), (0, 0), (0, 0), (1, 1), 1, False),
    (3, 8, 1, (3, 3), (6, 5), (1, 2), (1, 0), (0, 1), (2, 1), 8, True),   # depthwise
    (2, 3, 5, (1, 1), (4, 7), (1, 1), (0, 0), (0, 0), (1, 1), 1, True),   # direct GEMM
    (2, 4, 4, (1, 1), (4, 7), (2, 1), (0, 0), (1, 0), (1, 1), 2, False),  # 1x1, strided
    (2, 2, 3, (2, 3), (1, 9), (4, 5), (0, 1), (3, 0), (1, 1), 1, True),   # stride > kernel, H=1
    (2, 4, 2, (3, 2), (6, 1), (1, 1), (2, 0), (1, 0), (3, 2), 2, True),   # W=1, dilation
    (4, 16, 8, (4, 4), (8, 8), (2, 2), (1, 1), (0, 0), (1, 1), 1, True),  # DCGAN-like
    (2, 8, 3, (3, 7), (9, 11), (1, 1), (1, 3), (0, 0), (1, 1), 4, False),
]


# The gather takes its row form (gather_rows_kernel) where the taps are disjoint.
PATH_KERNELS = {"gemm": None, "gather": ("direct_gather_kernel", "gather_rows_kernel"),
                "implicit": ("implicit_gemm_kernel",)}


def force_path(path):
    gemm_convt.set_direct_gather(path == "gather")
    gemm_convt.set_implicit_gemm(path == "implicit")
    # "gemm" means GEMM + col2im with plain columns, also where taps are
    # disjoint or the fold's rule would pick the fold (tested on its own below)
    gemm_convt.set_disjoint_taps(path == "disjoint")
    gemm_convt.set_width_folding(False if path == "gemm" else None)


@pytest.mark.parametrize("path", list(PATH_KERNELS))
@pytest.mark.parametrize("key", list(TOLERANCE))
@pytest.mark.parametrize("case", range(len(GRID)))
def test_grid(case, key, path):
    x, w, b, kw = table_case(GRID, case, case, key)
    force_path(path)
    out, names = run_profiled(x, w, b, key, **kw)
    if w.shape[2:] != (1, 1) or kw["stride"] != (1, 1):  # 1x1 stride 1 is one GEMM either way
        for other, kernel in PATH_KERNELS.items():
            # float64 has no tensor-core implicit GEMM: it takes GEMM + col2im.
            expected = other == path and not (path == "implicit" and key == "float64")
            if kernel:
                assert any(k in name for k in kernel for name in names) == expected, (other, names)
    assert torch.equal(out, run(x, w, b, key, **kw)), "a rerun differs"
    assert out.dtype == x.dtype
    assert_matches(out, reference(x, w, b, **kw), key)


# Width folding forced on GEMM + col2im: the unfold kernel runs (split TF32,
# "float32", with A and B in three K blocks), whole and in chunks (bands,
# channel slices).
@pytest.mark.parametrize("limit", [None, 3000], ids=["whole", "chunked"])
@pytest.mark.parametrize("key", ["tf32", "float32", "ieee", "float16", "bfloat16", "float16_f32cols", "float64"])
@pytest.mark.parametrize("case", [c for c in range(len(GRID)) if GRID[c][3][1] > 1])
def test_width_folding_grid(case, key, limit):
    x, w, b, kw = table_case(GRID, case, case, key)
    assert_folded_run(x, w, b, key, limit, **kw)


def assert_folded_run(x, w, b, key, limit, **kw):
    """GEMM + col2im with the width folded under a workspace limit: the unfold ran,
    a rerun is bitwise the same, the result matches float64."""
    force_path("gemm")
    gemm_convt.set_width_folding(True)
    gemm_convt.set_workspace_limit(limit)
    out, names = run_profiled(x, w, b, key, **kw)
    assert any("unfold_phases_kernel" in name for name in names), names
    assert torch.equal(out, run(x, w, b, key, **kw)), "a rerun differs"
    assert_matches(out, reference(x, w, b, **kw), key)


@pytest.mark.parametrize("key, batch, limit", [("tf32", 32, 16 << 20), ("float32", 32, 32 << 20),
                                               ("tf32", 128, 64 << 20), ("float32", 128, 64 << 20)])
def test_width_folding_extra_memory_within_cap(key, batch, limit):
    """dcgan's layer (at a quarter of its batch under a quarter of the cap, and whole): the
    folded weight (TF32 8 MiB, split 24) and two buffers each of columns and unfolded input
    fill the cap to the byte, so the weight's non-finite flags (4 KiB) come off it too; and
    the allocator holds a 27 MiB buffer in a 28 MiB block (allocator_blocks.h), so the plan
    counts what it holds (dcgan read 64.004 MiB against 64 until both were counted)."""
    x, w, b = make_case(180, batch, 512, 256, (4, 4), (8, 8), 1, True, DTYPES[key])
    kw = dict(stride=2, padding=1)
    force_path("gemm")
    gemm_convt.set_width_folding(True)
    gemm_convt.set_workspace_limit(limit)
    out, names = run_profiled(x, w, b, key, **kw)
    assert any("unfold_phases_kernel" in name for name in names), names
    del out
    out, extra = extra_bytes_of_a_call(x, w, b, key, **kw)
    assert limit // 2 < extra <= limit, (extra, limit)
    assert_matches(out, reference(x, w, b, **kw), key)


# The unfold's tiles (fold_operand.cu): more input channels than one tile of 128
# bytes (40: 16-byte stores in every dtype; 36: float16 / bfloat16 rows of 72
# bytes, element stores), several (phase, slot) pairs (k5 stride 1: five slots),
# tiles of several lines (phase rows of 5-16 positions), input rows of whole
# 16-byte vectors (width 16: vector loads) or not (width 5: element loads), and
# shift spreads of ~30 (stride 2, dilation 7) and 64 (the most a fold takes).
@pytest.mark.parametrize("limit", [None, 20000], ids=["whole", "chunked"])
@pytest.mark.parametrize("key", ["tf32", "float32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize("cin", [40, 36])
@pytest.mark.parametrize("size", [(6, 5), (4, 16)], ids=["w5", "w16"])
@pytest.mark.parametrize("k, geometry", [((4, 4), dict(stride=2, padding=1)), ((3, 5), dict(padding=(1, 2))),
                                         ((2, 5), dict(stride=(1, 3), padding=(0, 2), output_padding=(0, 1))),
                                         ((2, 9), dict(stride=(1, 2), padding=(0, 3), dilation=(1, 7))),
                                         ((1, 65), dict(padding=(0, 32)))],
                         ids=["k4-s2", "k5-s1", "s3-uneven", "s2-d7", "spread64"])
def test_width_folding_unfold_tiles(k, geometry, size, cin, key, limit):
    x, w, b = make_case(29, 3, cin, 5, k, size, 1, True, DTYPES[key])
    assert_folded_run(x, w, b, key, limit, **geometry)


# Width folding's default rule (problem.h's width_fold_pays), on GEMM + col2im:
# folded where the saved column bytes cover the unfolded input's, and in TF32
# with >= 256 input channels per group or columns shrunk >= 3x, in half types
# with <= 128 input channels per group and an NCHW input; plain elsewhere.
# Each case's result still matches float64.
FOLD_RULE_CASES = [
    # (cin, cout, kernel, geometry, key, channels_last, folds)
    (8, 8, (4, 4), dict(stride=2, padding=1), "float16", False, True),      # halves the columns
    (8, 8, (4, 4), dict(stride=2, padding=1), "bfloat16", True, False),     # channels_last half input
    (8, 8, (4, 4), dict(stride=2, padding=1), "tf32", False, False),        # TF32: few channels, 2x shrink
    (256, 256, (4, 4), dict(stride=2, padding=1), "tf32", True, True),      # TF32, 256 channels
    (8, 8, (3, 3), dict(padding=1), "tf32", False, True),                   # TF32, 3x shrink
    (8, 8, (3, 3), dict(padding=1), "ieee", False, False),                  # strict float32: not by default
    (8, 8, (3, 3), dict(padding=1), "float64", False, False),
    (32, 8, (4, 4), dict(stride=2, padding=1), "float16", False, False),    # the unfolded input outweighs
    (136, 136, (4, 4), dict(stride=2, padding=1), "bfloat16", False, False),  # > 128, no col2im blocks
    (136, 136, (4, 4), dict(stride=2, padding=1), "tf32", False, False),  # < 256, no col2im blocks
    (8, 8, (3, 3), dict(stride=2, padding=1, output_padding=1), "float16", False, False),  # saves too little
    (8, 8, (3, 3), dict(stride=5, padding=1, dilation=2), "tf32", False, False),  # folded columns grow
    (8, 8, (3, 7), dict(padding=(1, 3)), "float16", False, True),
]


@pytest.mark.parametrize("cin, cout, k, geometry, key, channels_last, folds", FOLD_RULE_CASES)
def test_width_folding_rule(cin, cout, k, geometry, key, channels_last, folds):
    x, w, b = make_case(31, 2, cin, cout, k, (9, 10), 1, True, DTYPES[key])
    if channels_last:
        x = x.contiguous(memory_format=torch.channels_last)
    force_path("gemm")
    gemm_convt.set_width_folding(None)
    out, names = run_profiled(x, w, b, key, **geometry)
    assert any("unfold_phases_kernel" in name for name in names) == folds, names
    assert torch.equal(out, run(x, w, b, key, **geometry)), "a rerun differs"
    assert_matches(out, reference(x, w, b, **geometry), key)


# Where col2im takes blocks over the folded columns (planes of 8 positions here), the rule
# folds 136 channels in the half types and TF32 (session 21), and the block kernel runs.
@pytest.mark.parametrize("key", ["tf32", "bfloat16"])
def test_width_folding_rule_with_col2im_blocks(key):
    x, w, b = make_case(37, 2, 136, 72, (4, 4), (9, 8), 1, True, DTYPES[key])
    force_path("gemm")
    gemm_convt.set_width_folding(None)
    out, names = run_profiled(x, w, b, key, stride=2, padding=1)
    assert any("unfold_phases_kernel" in name for name in names), names
    assert any("col2im_block_kernel" in name for name in names), names
    assert torch.equal(out, run(x, w, b, key, stride=2, padding=1)), "a rerun differs"
    assert_matches(out, reference(x, w, b, stride=2, padding=1), key)


# tf32: the columns GEMM through cuBLASLt plans (K <= 256), one per chunk shape and operand
# alignment (bands start at arbitrary 4-byte offsets).
@pytest.mark.parametrize("key", ["float32", "tf32", "float16"])
@pytest.mark.parametrize("limit", [1, 3000, 20000])
def test_chunked_workspace(limit, key):
    x, w, b = make_case(7, 5, 6, 4, (3, 3), (9, 10), 2, True, DTYPES[key])
    kw = dict(stride=2, padding=1, output_padding=1, groups=2)
    gemm_convt.set_workspace_limit(limit)
    force_path("gemm")  # the chunks are the columns path's
    assert_matches(run(x, w, b, key, **kw), reference(x, w, b, **kw), key)


# Several samples per chunk: the NCHW input is repacked per chunk in the widest of
# 16/8/4/2-byte units that its run length (rows x width x element size), strides and
# addresses allow. "offset" starts the input one sample into its storage.
@pytest.mark.parametrize("key,hw", [("ieee", (4, 4)), ("ieee", (3, 2)), ("ieee", (3, 3)), ("tf32", (3, 3)),
                                    ("float16", (4, 4)), ("float16", (2, 2)), ("float16", (3, 3))])
@pytest.mark.parametrize("offset", [False, True])
def test_several_samples_per_chunk(key, hw, offset):
    n, cin, cout, k = 9, 5, 6, (3, 3)
    x, w, b = make_case(17, n + 1, cin, cout, k, hw, 1, True, DTYPES[key])
    x = x[1:] if offset else x[:n]
    kw = dict(stride=2, padding=1)
    esize = x.element_size()
    columns_per_sample = cout * k[0] * k[1] * hw[0] * hw[1] * esize
    # Two buffers of half the cap when the columns do not fit: ~3 samples per chunk.
    gemm_convt.set_workspace_limit(int(7 * columns_per_sample))
    gemm_convt.set_direct_gather(False)  # the plain GEMM path's repack is what this tests
    gemm_convt.set_implicit_gemm(False)
    gemm_convt.set_width_folding(False)
    out, names = run_profiled(x, w, b, key, **kw)
    assert any("pack_runs_kernel" in name for name in names), "the input was not repacked"
    assert_matches(out, reference(x, w, b, **kw), key)
    # grad_weight reads the same packed input.
    xg, wg = x.detach().requires_grad_(), w.detach().requires_grad_()
    grad = torch.randn(reference(x, w, b, **kw).shape, generator=torch.Generator().manual_seed(5))
    gemm_convt.conv_transpose2d(xg, wg, b, **kw).backward(grad.to(x))
    x64, w64 = x.double().cpu().requires_grad_(), w.double().cpu().requires_grad_()
    F.conv_transpose2d(x64, w64, b.double().cpu(), **kw).backward(grad.double())
    assert_matches(wg.grad, w64.grad, key)
    assert_matches(xg.grad, x64.grad, key)


# Taps that never overlap (dilated kernel <= stride): one fused kernel writes the output.
# (N, Cin, Cout/groups, kernel, input HxW, stride, padding, output_padding, dilation, groups, bias)
DISJOINT = [
    (2, 20, 40, (2, 2), (13, 11), (2, 2), (0, 0), (0, 0), (1, 1), 1, True),   # 160 products: 2 tiles; K tail
    (3, 8, 16, (3, 3), (9, 17), (5, 5), (1, 1), (0, 0), (2, 2), 1, False),    # #81-like: gaps between taps
    (2, 12, 6, (3, 3), (5, 7), (3, 4), (0, 1), (1, 3), (1, 1), 3, True),      # groups; rows and columns no cell reaches
    (1, 33, 130, (1, 1), (8, 9), (2, 3), (0, 1), (1, 2), (1, 1), 1, True),    # 1x1 strided, 130 channels
    (2, 64, 12, (4, 4), (6, 6), (4, 4), (2, 1), (0, 3), (1, 1), 2, True),     # padding crops the cells
    # Contiguous inputs of these copy their tiles in 16-byte vectors (pixels and weight rows
    # multiples of 8 elements): U-Net-like with a K tail, #81-like over several column tiles,
    # groups with unreached edges.
    (2, 20, 40, (2, 2), (8, 12), (2, 2), (0, 0), (0, 0), (1, 1), 1, True),
    (2, 24, 16, (3, 3), (8, 16), (5, 5), (1, 1), (0, 0), (2, 2), 1, False),
    (2, 12, 8, (3, 3), (4, 8), (3, 4), (0, 1), (1, 3), (1, 1), 3, True),
    # channels_last, 16-byte vectors along the channels in every dtype (16 channels in and out).
    (2, 16, 16, (2, 2), (6, 10), (2, 2), (0, 0), (0, 0), (1, 1), 1, True),
]
VECTOR_CASES = range(5, 8)


def in_layout(x, layout):
    """x as channels_last, or as a strided view (every other channel, cropped), or as is."""
    if layout == "channels_last":
        return x.contiguous(memory_format=torch.channels_last)
    if layout == "sliced":
        return torch.cat([x, x], dim=1)[:, ::2][:, :, 1:, :-1]
    return x


def table_case(cases, case, seed, key, layout="contiguous"):
    """Row `case` of a case table (GRID's columns): seeded inputs of key's dtype, x in
    `layout`, and the call's keyword arguments."""
    n, cin, cout_g, k, hw, s, p, op, d, groups, bias = cases[case]
    x, w, b = make_case(seed, n, cin, cout_g, k, hw, groups, bias, DTYPES[key])
    kw = dict(stride=s, padding=p, output_padding=op, dilation=d, groups=groups)
    return in_layout(x, layout), w, b, kw


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("key", ["tf32", "float16", "bfloat16", "ieee"])
@pytest.mark.parametrize("case", range(len(DISJOINT)))
def test_disjoint_taps(case, key, layout, monkeypatch):
    x, w, b, kw = table_case(DISJOINT, case, 40 + case, key, layout)
    force_path("disjoint")
    monkeypatch.setenv("GEMM_CONVT_WGMMA", "0")  # the mma.sync kernel (test_wgmma_disjoint_* test the other)
    out, names = run_profiled(x, w, b, key, **kw)
    fused = [name for name in names if "disjoint_taps_kernel" in name]
    assert fused, names
    # Template arguments: the dtype, how tiles are staged (0 element loads, 1 16-byte copies of
    # NCHW rows, 2 16-byte copies along channels_last pixels' channels), three TF32 products
    # (float32 without TF32).
    args = [a.strip() for a in re.search(r"disjoint_taps_kernel<([^>]*)>", fused[0]).group(1).split(",")]
    if layout == "contiguous" and case in VECTOR_CASES:
        assert args[1] == "1", fused[0]
    elif layout != "contiguous":
        # channels_last: each pixel's channels of a group in whole 16-byte vectors, output
        # channels per group too, and a column tile's channels (128 // taps) in whole vectors.
        vector = 16 // x.element_size()
        cin_g, cout_g, taps = x.shape[1] // kw["groups"], w.shape[1], w.shape[2] * w.shape[3]
        channel_vectors = (layout == "channels_last" and cin_g % vector == 0 and cout_g % vector == 0
                           and 128 // taps % vector == 0)
        assert args[1] == ("2" if channel_vectors else "0"), fused[0]
    assert args[2] == str(key == "ieee").lower(), fused[0]
    assert_matches(out, reference(x, w, b, **kw), key)
    assert torch.equal(out, run(x, w, b, key, **kw)), "a rerun differs"


@pytest.mark.parametrize("key", ["tf32", "ieee", "float16", "bfloat16"])
@pytest.mark.parametrize("case, layout, fused", [
    (5, "contiguous", True),       # 2x2 stride 2, 16-byte copies: the default takes the kernel
    (5, "channels_last", True),    # channels_last, >= 16 channels: element loads measured faster
    (6, "channels_last", True),    # ... cells with gaps too
    (6, "contiguous", False),      # #81-like NCHW cells with gaps: GEMM + col2im measured as fast
    (6, "sliced", False),          # other layouts: not measured, GEMM + col2im
    (2, "channels_last", False),   # 4 channels per group: less than a K step, GEMM + col2im
])
def test_disjoint_taps_default_rule(key, case, layout, fused, monkeypatch):
    x, w, b, kw = table_case(DISJOINT, case, 60 + case, key, layout)
    monkeypatch.setenv("GEMM_CONVT_WGMMA", "0")  # the mma.sync kernel's rule
    # The gather's and the implicit GEMM's cost models come first (they take some small
    # problems, this one among them in TF32); the disjoint kernel's own rule is tested.
    gemm_convt.set_direct_gather(False)
    gemm_convt.set_implicit_gemm(False)
    out, names = run_profiled(x, w, b, key, **kw)
    assert any("disjoint_taps_kernel" in name for name in names) == fused, names
    assert_matches(out, reference(x, w, b, **kw), key)


# The direct gather's row form (cuda/gather_rows.cuh), forced: DISJOINT's cases and two
# beyond them: several 128-column spans, several 16-row runs per stride phase, channel tiles
# of 32 with a partial last one; groups, and edges no tap reaches.
GATHER_ROWS = DISJOINT + [
    (2, 8, 40, (3, 3), (30, 60), (5, 5), (1, 1), (0, 0), (2, 2), 1, True),
    (1, 6, 3, (2, 3), (23, 50), (3, 4), (1, 0), (2, 1), (1, 1), 3, False),
]


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("key", ["ieee", "tf32", "float16", "bfloat16", "float64"])
@pytest.mark.parametrize("case", range(len(GATHER_ROWS)))
def test_gather_rows(case, key, layout):
    """Float32 FMAs whatever the TF32 policy (ieee's 1e-5 holds under tf32 too). The row form
    writes along output rows, so a channels_last output takes the walk (the row form's
    strided stores made #81 4x slower, NOTES.md session 36); float64 takes it where its
    staged tiles fit in 96 KiB (surely at 8 input channels a group or fewer)."""
    x, w, b, kw = table_case(GATHER_ROWS, case, 130 + case, key, layout)
    force_path("gather")
    out, names = run_profiled(x, w, b, key, **kw)
    rows = any("gather_rows_kernel" in name for name in names)
    if layout == "channels_last":
        assert not rows, names
    elif key != "float64" or x.shape[1] // kw["groups"] <= 8:
        assert rows, names
    assert_matches(out, reference(x, w, b, **kw), "ieee" if key == "tf32" else key)
    assert torch.equal(out, run(x, w, b, key, **kw)), "a rerun differs"


@pytest.mark.parametrize("key", ["ieee", "tf32", "float16", "bfloat16"])
def test_gather_rows_default_rule(key):
    """#81's layer for one sample (3x3, dilation 2, stride 5, 32 -> 64 channels): the default
    takes the row form in float32 (kb81 0.46 against 0.66 ms strict, 0.47 against 0.63 TF32)
    and GEMM + col2im in 16-bit types (0.49 against 0.58), by the cost models (NOTES.md
    sessions 36-37)."""
    x, w, b = make_case(140, 1, 32, 64, (3, 3), (64, 128), 1, False, DTYPES[key])
    kw = dict(stride=5, padding=1, dilation=2)
    out, names = run_profiled(x, w, b, key, **kw)
    rows = any("gather_rows_kernel" in name for name in names)
    assert rows == (DTYPES[key] == torch.float32), names
    assert_matches(out, reference(x, w, b, **kw), "ieee" if rows else key)


@pytest.mark.slow
def test_gather_rows_input_offsets_over_2_to_31():
    """An input view whose channels lie 2^30 elements apart (8 GiB of storage behind a small
    tensor): the row form's staging offsets pass 2^31 within one sample, so it takes its
    64-bit instantiation; the result still matches float64."""
    free, _ = torch.cuda.mem_get_info()
    if free < 12 * 2 ** 30:
        pytest.skip("needs 12 GiB of free GPU memory")
    small, w, b = make_case(141, 1, 3, 5, (3, 3), (6, 20), 1, True, torch.float32)
    channel_stride = 2 ** 30 + 3
    storage = torch.empty(2 * channel_stride + small[0, 0].numel(), device="cuda")
    x = storage.as_strided(small.shape, (3 * channel_stride, channel_stride, 20, 1))
    x.copy_(small)
    kw = dict(stride=5, padding=1, dilation=2)
    force_path("gather")
    out, names = run_profiled(x, w, b, "ieee", **kw)
    assert any("gather_rows_kernel<float, long>" in name for name in names), names
    assert_matches(out, reference(small, w, b, **kw), "ieee")


@pytest.mark.parametrize("key", ["ieee", "float16"])
def test_gather_rows_non_finite(key, helpers):
    """NaN, +inf and -inf weights at taps, and output positions whose tap misses the input
    (output_padding past the last input row and column): the row form's gap lanes multiply
    zeros, never a stored value, so the non-finite values land where torch's float64 has them."""
    x, w, b, geometry = helpers.non_finite_disjoint_case(DTYPES[key], "cuda")
    force_path("gather")
    out, names = run_profiled(x, w, b, key, **geometry)
    assert any("gather_rows_kernel" in name for name in names), names
    ref = reference(x, w, b, **geometry)
    assert torch.isnan(ref).any() and torch.isposinf(ref).any() and torch.isneginf(ref).any()
    helpers.assert_non_finite_like(out, ref, TOLERANCE[key][0])


@pytest.mark.parametrize("wgmma", ["1", "0"])
@pytest.mark.parametrize("cin", [512, 513])
def test_disjoint_taps_float32_contraction_bound(cin, wgmma, monkeypatch):
    """Strict float32 takes the disjoint kernel's three TF32 products for up to 512 input
    channels per group (the tensor cores' accumulation error grows with the contraction),
    and GEMM + col2im above: float32's 1e-5 holds at the bound, on the mma.sync kernel and
    (compute capability 9.0) the wgmma one."""
    if wgmma == "1" and not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    monkeypatch.setenv("GEMM_CONVT_WGMMA", wgmma)
    x, w, b = make_case(90, 2, cin, 8, (2, 2), (8, 16), 1, True, torch.float32)
    force_path("disjoint")
    out, names = run_profiled(x, w, b, "ieee", stride=2)
    kernel = "disjoint_wgmma_kernel" if wgmma == "1" else "disjoint_taps_kernel"
    assert any(kernel in name for name in names) == (cin <= 512), names
    assert_matches(out, reference(x, w, b, stride=2), "ieee")


# The disjoint kernel on Hopper's wgmma (cuda/disjoint_wgmma.h: float32 without TF32, taps
# tiling each stride cell exactly, NCHW rows copied in 16-byte vectors, compute capability 9.0).
# (N, Cin, Cout/groups, kernel, input HxW, stride, padding, output_padding, dilation, groups, bias)
WGMMA_DISJOINT = [
    (2, 40, 48, (2, 2), (20, 28), (2, 2), (0, 0), (0, 0), (1, 1), 1, True),   # U-Net-like: 5 pixel tiles
                                                                              # (last partial), 2 column tiles, K tail
    (2, 64, 24, (2, 2), (12, 16), (2, 2), (0, 0), (0, 0), (1, 1), 2, False),  # groups
    (2, 16, 8, (3, 3), (10, 12), (3, 3), (1, 2), (2, 1), (1, 1), 1, True),    # odd taps, cropped cells, edges
    (1, 16, 40, (3, 2), (6, 8), (3, 2), (0, 0), (0, 0), (1, 1), 1, True),     # 3x2: 240 columns, 2 tiles
    (1, 16, 16, (2, 4), (6, 8), (2, 4), (1, 2), (0, 0), (1, 1), 1, True),     # even padding: float2 pairs, cropped
]


@pytest.mark.parametrize("layout", ["contiguous", "channels_last"])
@pytest.mark.parametrize("key", ["ieee", "tf32"])
@pytest.mark.parametrize("case", range(len(WGMMA_DISJOINT)))
def test_wgmma_disjoint_taps(case, key, layout):
    """The default takes the wgmma kernel for contiguous float32 inputs without TF32 (one
    launch); TF32 and channels_last inputs stay on the mma.sync kernel."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b, kw = table_case(WGMMA_DISJOINT, case, 110 + case, key, layout)
    gemm_convt.set_direct_gather(False)
    gemm_convt.set_implicit_gemm(False)
    out, names = run_profiled(x, w, b, key, **kw)
    launches = sum("disjoint_wgmma_kernel" in name for name in names)
    assert launches == (1 if layout == "contiguous" and key == "ieee" else 0), names
    assert_matches(out, reference(x, w, b, **kw), key)
    assert torch.equal(out, run(x, w, b, key, **kw)), "a rerun differs"


# Implicit GEMM beyond the grid's small shapes: several position tiles per row
# (width > 128), channel chunks (Cin/groups > 16) and channel tiles (Cout/groups
# > 32 or 64), width phases of unequal length, many width taps (shared memory
# over 48 KiB), rows whose taps all miss.
IMPLICIT = [
    (2, 40, 70, (3, 3), (9, 300), (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    (2, 32, 33, (3, 7), (6, 260), (1, 1), (1, 3), (0, 0), (1, 1), 1, False),
    (3, 20, 24, (3, 5), (7, 150), (2, 3), (1, 2), (1, 2), (2, 1), 2, True),
    (2, 16, 16, (4, 4), (5, 140), (2, 2), (1, 1), (0, 0), (1, 1), 1, True),
    (2, 8, 64, (2, 9), (4, 133), (3, 1), (0, 4), (2, 0), (1, 2), 1, True),
    (1, 18, 130, (3, 3), (5, 129), (5, 5), (1, 1), (0, 0), (2, 2), 1, False),
    # Short rows (a width phase of <= 64 positions): tiles of whole phase rows across samples.
    # DCGAN-like with row phases of unequal length, a channel chunk tail and two channel tiles;
    # FCN-like (two 64-position rows per tile); stride 1 with rows whose dilated taps miss the
    # input; a row phase no tap reaches (bias only); two-position phases (one when sliced).
    (5, 40, 70, (4, 4), (5, 6), (2, 2), (1, 1), (1, 0), (1, 1), 1, True),
    (3, 16, 24, (4, 4), (7, 64), (2, 2), (1, 1), (0, 0), (1, 1), 1, False),
    (4, 12, 8, (3, 3), (5, 9), (1, 1), (2, 0), (0, 0), (2, 1), 2, True),
    (3, 8, 64, (2, 3), (4, 5), (3, 2), (0, 1), (2, 1), (1, 2), 1, True),
    (2, 20, 30, (3, 3), (6, 2), (2, 3), (0, 0), (0, 0), (1, 1), 1, True),
    # One-row tiles whose 4-column-aligned segment runs past its span rounded to 8 (the
    # shift): the last quad holds input columns the last positions read.
    (2, 16, 24, (3, 7), (5, 132), (1, 1), (1, 1), (0, 0), (1, 1), 1, True),
    (2, 16, 40, (3, 3), (4, 132), (2, 2), (1, 2), (1, 1), (1, 1), 1, False),
]
BANDED_CASES = range(6, 11)


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("key", ["float32", "tf32", "float16", "bfloat16"])
@pytest.mark.parametrize("case", range(len(IMPLICIT)))
def test_implicit_gemm(case, key, layout, monkeypatch):
    x, w, b, kw = table_case(IMPLICIT, case, 60 + case, key, layout)
    force_path("implicit")
    monkeypatch.setenv("GEMM_CONVT_WGMMA", "0")  # the mma.sync kernel (test_wgmma_* test the other)
    out, names = run_profiled(x, w, b, key, **kw)
    names = [name for name in names if "implicit_gemm_kernel" in name]
    assert names
    # The last template argument: four neighbouring columns per load for aligned NCHW rows (1),
    # four neighbouring channels for aligned channels_last pixels (2), else one value (0).
    cin, groups = x.shape[1], kw["groups"]
    if layout == "contiguous" and x.shape[3] % 4 == 0:
        load = 1
    elif layout == "channels_last" and cin % 4 == 0 and (cin // groups) % 4 == 0:
        load = 2
    else:
        load = 0
    template_args = re.search(r"implicit_gemm_kernel<([^>]*)>", names[0]).group(1).split(",")
    assert template_args[-1].strip() == str(load), names[0]
    assert template_args[-2].strip() == str(case in BANDED_CASES).lower(), names[0]  # bands
    assert_matches(out, reference(x, w, b, **kw), key)
    assert torch.equal(out, run(x, w, b, key, **kw)), "a rerun differs"


# The implicit GEMM's first launch on Hopper's wgmma (sm_90a: float32, stride 1, >= 48 output
# channels per group; cuda/implicit_wgmma.h): whole samples per chunk, and output-row bands of
# one sample under a small workspace.
# (N, Cin, Cout/groups, kernel, input HxW, stride, padding, output_padding, dilation, groups, bias)
WGMMA = [
    (2, 64, 64, (3, 5), (6, 140), (1, 1), (0, 0), (0, 0), (1, 1), 1, False),  # kb69-like, several position tiles
    (2, 24, 72, (3, 3), (5, 131), (1, 1), (1, 2), (0, 0), (1, 1), 1, True),   # partial channel blocks and tiles
    (1, 32, 64, (3, 7), (5, 300), (1, 1), (1, 3), (0, 0), (1, 1), 2, True),   # groups, 3x7 (kb65/kb78-like)
    (2, 16, 48, (2, 3), (7, 129), (1, 1), (0, 1), (0, 1), (3, 2), 1, True),   # dilation, rows few taps reach
    (1, 16, 64, (2, 3), (4, 100), (1, 1), (0, 1), (0, 0), (5, 1), 1, True),   # output rows no tap reaches: bias
    (2, 16, 64, (3, 3), (6, 70), (1, 1), (2, 1), (1, 0), (2, 1), 1, True),    # short rows: a tile spans three,
                                                                              # padded rows, an output row below
    (1, 32, 64, (1, 4), (5, 70), (1, 1), (0, 1), (0, 0), (1, 1), 1, False),   # one kernel row, an even width
    (1, 16, 64, (2, 9), (4, 90), (1, 1), (0, 4), (0, 0), (1, 1), 1, True),    # a width over 7: the kernel
                                                                              # instantiated for any width
]


def wgmma_window_rows(tile_m, w, kw, taps_w=None):
    """Rows of a block's staged window: its positions and the width taps' shifts (taps_w: a
    phase's, else the kernel's), whole 8-row core matrices (implicit_wgmma.cpp's set_tile)."""
    taps_w = w.shape[3] if taps_w is None else taps_w
    return (tile_m + (taps_w - 1) * kw["dilation"][1] + 7) // 8 * 8


def wgmma_tile_m(w, kw, key, taps_w=None):
    """Positions a block, by implicit_wgmma.cpp's rule: 128 where two blocks' shared memory
    (two stages of window and weight tiles, 1 KiB of margin and sm_90's reserved 1 KiB)
    fits an SM, else 256 where one block fits."""
    kernel_w, parts = (w.shape[3] if taps_w is None else taps_w), (1 if key == "tf32" else 2)

    def block_bytes(tile_m):
        return 2 * (parts * 16 * wgmma_window_rows(tile_m, w, kw, kernel_w) + kernel_w * parts * 64 * 16) * 4 + 2048

    props = torch.cuda.get_device_properties(torch.cuda.current_device())
    if 2 * block_bytes(128) <= props.shared_memory_per_multiprocessor:
        return 128
    return 256 if block_bytes(256) - 1024 <= props.shared_memory_per_block_optin else 128


def wgmma_available():
    return torch.cuda.get_device_capability() == (9, 0)


def wgmma_geometry(x, w, kw, key):
    """(bytes of one packed input row of a sample, bytes of a sample's plane tails, output
    rows, batch, rows a band's taps reach above it, bytes of the packed weights off the cap)
    as implicit_wgmma.cpp counts them. The weights: the call's own and, split, the guarded
    rerun's (the mma.sync kernel's: every tap, 64-channel output tiles, 16-channel chunks)."""
    n, cin, in_h, in_w = x.shape
    k, p, op, d, groups = w.shape[2:], kw["padding"], kw["output_padding"], kw["dilation"], kw["groups"]
    out_h, out_w = ((in_h, in_w)[i] - 1 + d[i] * (k[i] - 1) - 2 * p[i] + op[i] + 1 for i in range(2))
    wp = out_w + (k[1] - 1) * d[1]
    a_rows = wgmma_window_rows(wgmma_tile_m(w, kw, key), w, kw)
    blocks, parts = -(-(cin // groups) // 16), (1 if key == "tf32" else 2)
    row_bytes = groups * blocks * parts * 16 * wp * 4
    tail_bytes = groups * blocks * parts * 16 * a_rows * 4
    co_tiles = -(-w.shape[1] // 64)
    weight_floats = groups * k[0] * k[1] * blocks * co_tiles * parts * 64 * 16
    rerun_floats = 0 if key == "tf32" else groups * k[0] * k[1] * co_tiles * 64 * blocks * 16
    return row_bytes, tail_bytes, out_h, n, (k[0] - 1) * d[0], 4 * (weight_floats + rerun_floats)


SEGMENT = 2 << 20  # torch's caching allocator rounds large segments to 2 MiB


def wgmma_launches(geometry, limit):
    """The chunks under a workspace of `limit` bytes: whole samples where one fits a
    buffer, else bands of output rows of one sample (a band packs its rows, the rows its
    taps reach above it and a tail); two buffers of half the cap where more than one chunk
    runs and a one-row band fits half. The packed weights (ours and the rerun's, each once)
    come off the cap first, and above 2 MiB what is left is whole 2 MiB (the allocator's
    large segments)."""
    row_bytes, tail_bytes, out_h, n, reach, weight_bytes = geometry

    def band_bytes(rows):
        return (rows + reach) * row_bytes + tail_bytes

    def chunks(buffer_bytes):
        if band_bytes(out_h) <= buffer_bytes:
            return -(-n // min(n, buffer_bytes // band_bytes(out_h)))
        return n * -(-out_h // max(1, (buffer_bytes - tail_bytes) // row_bytes - reach))

    cap_bytes = max(0, limit - weight_bytes)
    cap = (cap_bytes // SEGMENT * SEGMENT if cap_bytes >= SEGMENT else cap_bytes) // 4  # floats
    if chunks(cap * 4) > 1 and band_bytes(1) <= cap // 2 * 4:
        return chunks(cap // 2 * 4)
    return chunks(cap * 4)


def assert_wgmma_result(out, names, x, w, b, key, **kw):
    """A wgmma call's checks beside its own: split float32 launched the guarded rerun on the
    mma.sync kernel (once; it returns at once), the result matches float64, and a rerun is
    bitwise the same."""
    others = [name for name in names if "implicit_gemm_kernel" in name]
    assert len(others) == (1 if key == "float32" else 0), others
    assert_matches(out, reference(x, w, b, **kw), key)
    assert torch.equal(out, run(x, w, b, key, **kw)), "a rerun differs"


@pytest.mark.parametrize("limit", ["default", "bands"])
@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("key", ["float32", "tf32"])
@pytest.mark.parametrize("case", range(len(WGMMA)))
def test_wgmma_implicit_gemm(case, key, layout, limit):
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b, kw = table_case(WGMMA, case, 90 + case, key, layout)
    force_path("implicit")
    limit_bytes = gemm_convt.get_workspace_limit()
    if limit == "bands":
        # the split's packed input of 2-row bands beside its packed weights: float32 runs in
        # bands where a sample's rows pass that, TF32 (half the bytes) in one sample per chunk
        # or bands of more rows
        row_bytes, tail_bytes, _, _, reach, weight_bytes = wgmma_geometry(x, w, kw, "float32")
        limit_bytes = row_bytes * (2 + reach) + tail_bytes + weight_bytes
        gemm_convt.set_workspace_limit(limit_bytes)
    out, names = run_profiled(x, w, b, key, **kw)
    launches = [name for name in names if "implicit_wgmma_kernel" in name]
    assert len(launches) == wgmma_launches(wgmma_geometry(x, w, kw, key), limit_bytes), names
    # the template's second argument: consumer warpgroups of 64 positions
    consumers = re.search(r"implicit_wgmma_kernel<[^,>]*,\s*(\d+)[,>]", launches[0]).group(1)
    assert int(consumers) * 64 == wgmma_tile_m(w, kw, key), launches[0]
    assert_wgmma_result(out, names, x, w, b, key, **kw)


@pytest.mark.parametrize("key", ["float32", "tf32"])
def test_wgmma_extra_memory_within_cap(key):
    """Bands whose two buffers nearly fill a 16 MiB cap: the allocator hands a large request
    its whole 2 MiB-rounded block when under 1 MiB would be left, so a buffer sized to the cap
    less the packed weights (~15.5 MiB) held 16 MiB and the call's peak passed the cap by the
    packed weight (kb65 TF32 read 64.3 MiB against 64). The buffer is now whole 2 MiB."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b = make_case(170, 2, 64, 64, (3, 3), (128, 256), 1, False, DTYPES[key])
    kw = dict(stride=(1, 1), padding=(1, 1), output_padding=(0, 0), dilation=(1, 1), groups=1)
    force_path("implicit")
    limit = 16 << 20
    gemm_convt.set_workspace_limit(limit)
    geometry = wgmma_geometry(x, w, kw, key)
    assert geometry[0] * 4 < (1 << 20), geometry  # rows fine enough to fill the buffers
    out, names = run_profiled(x, w, b, key, **kw)
    launches = [name for name in names if "implicit_wgmma_kernel" in name]
    assert len(launches) == wgmma_launches(geometry, limit) > 2, names  # bands, two buffers
    del out
    out, extra = extra_bytes_of_a_call(x, w, b, key, **kw)
    assert limit - (2 << 20) < extra <= limit, (extra, limit)
    assert_matches(out, reference(x, w, b, **kw), key)


# Strided calls on the stride-1 wgmma kernel by output phases, those with the same taps as one
# call where that adds few positions (cuda/wgmma_phases.cpp: undilated, kernel >= stride, >= 48
# output channels per group, phase planes that fill at least 75% of their position tiles:
# 79-97% here, also as the "sliced" layout's cropped input, under either tile size).
# (N, Cin, Cout/groups, kernel, input HxW, stride, padding, output_padding, dilation, groups, bias)
WGMMA_PHASES = [
    (2, 32, 64, (4, 4), (8, 31), (2, 2), (1, 1), (0, 0), (1, 1), 1, True),    # FCN-like: 2x2 taps a phase;
                                                                              # a call a phase (shared rows: 3
                                                                              # tiles a phase against 2)
    (2, 32, 64, (4, 4), (8, 30), (2, 2), (1, 1), (0, 0), (1, 1), 1, True),    # the four phases as one call
    (2, 16, 64, (3, 3), (8, 31), (2, 2), (1, 1), (1, 1), (1, 1), 1, True),    # 2 or 1 taps a phase, output_padding
    (1, 32, 48, (4, 5), (10, 83), (2, 3), (2, 1), (1, 2), (1, 1), 2, False),  # 6 phases, groups, padding > taps;
                                                                              # a call a phase (sliced: two calls)
    (1, 32, 48, (4, 6), (9, 44), (2, 3), (1, 2), (1, 1), (1, 1), 2, False),   # six phases as one call, theirs
                                                                              # 10 or 9 rows and starting a row
                                                                              # and a column apart
]


def wgmma_phases_of(out, w, kw):
    """Each output phase (in order) as ((row taps, column taps), (its first row tap's input
    row, its first column tap's input column, each less the phase's output index), its
    output rows, its output columns): geometry.h's phase_taps, undilated."""
    def taps(axis, phase):
        k, s, p = w.shape[2 + axis], kw["stride"][axis], kw["padding"][axis]
        hits = [t for t in range(k) if (phase + p - t) % s == 0]
        return len(hits), (phase + p - hits[0]) // s

    def length(axis, phase):
        return -(-(out.shape[2 + axis] - phase) // kw["stride"][axis])

    phases = []
    for ph in range(min(kw["stride"][0], out.shape[2])):
        for pw in range(min(kw["stride"][1], out.shape[3])):
            (hits_h, base_h), (hits_w, base_w) = taps(0, ph), taps(1, pw)
            phases.append(((hits_h, hits_w), (base_h, base_w), length(0, ph), length(1, pw)))
    return phases


def wgmma_phase_calls(out, w, kw, key):
    """The wgmma calls of a strided call at the default cap (wgmma_phases.cpp's phase_sets):
    phases grouped by their taps, a group one call where its packed rows (longer by the
    spread of its phases' first columns) add at most 1/16 to its phases' own positions,
    else one call a phase."""
    groups = {}
    for phase in wgmma_phases_of(out, w, kw):
        groups.setdefault(phase[0], []).append(phase)
    calls = 0
    for (_, taps_w), group in groups.items():
        tile_m = wgmma_tile_m(w, kw, key, taps_w)

        def positions(rows, wp):
            return -(-rows * wp // tile_m) * tile_m

        own = sum(positions(rows, cols + taps_w - 1) for _, _, rows, cols in group)
        bases = [base[1] for _, base, _, _ in group]
        wp = max(cols for *_, cols in group) + taps_w - 1 + max(bases) - min(bases)
        shared = len(group) * positions(max(rows for _, _, rows, _ in group), wp)
        calls += 1 if len(group) == 1 or shared * 16 <= own * 17 else len(group)
    return calls


@pytest.mark.parametrize("layout", ["contiguous", "channels_last", "sliced"])
@pytest.mark.parametrize("key", ["float32", "tf32"])
@pytest.mark.parametrize("case", range(len(WGMMA_PHASES)))
def test_wgmma_phases(case, key, layout):
    """The output phases with the same taps as one stride-1 wgmma call (one packed input,
    one launch) into strided views of the output; split float32 keeps the guarded rerun on
    the mma.sync kernel (one launch, returning at once)."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b, kw = table_case(WGMMA_PHASES, case, 130 + case, key, layout)
    force_path("implicit")
    out, names = run_profiled(x, w, b, key, **kw)
    launches = [name for name in names if "implicit_wgmma_kernel" in name]
    packs = [name for name in names if "pack_input_kernel" in name]
    calls = wgmma_phase_calls(out, w, kw, key)
    assert len(launches) == len(packs) == calls, names  # one chunk a call at the default cap
    assert_wgmma_result(out, names, x, w, b, key, **kw)


@pytest.mark.parametrize("key", ["float32", "tf32"])
@pytest.mark.parametrize("case", range(len(WGMMA_PHASES)))
def test_wgmma_phase_sets_match_single_phases(case, key, monkeypatch):
    """Phases sharing a pack and a launch compute what one call a phase computes, bit for
    bit (the same packed values, products and order), and the A/B switch
    (GEMM_CONVT_WGMMA_PHASE_SETS=0) runs one call a phase."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b, kw = table_case(WGMMA_PHASES, case, 140 + case, key, "contiguous")
    force_path("implicit")
    shared, names = run_profiled(x, w, b, key, **kw)
    assert any("implicit_wgmma_kernel" in name for name in names), names
    monkeypatch.setenv("GEMM_CONVT_WGMMA_PHASE_SETS", "0")
    single, names = run_profiled(x, w, b, key, **kw)
    packs = [name for name in names if "pack_input_kernel" in name]
    assert len(packs) == len(wgmma_phases_of(single, w, kw)), names
    assert torch.equal(shared, single), (shared - single).abs().max()
    assert_matches(shared, reference(x, w, b, **kw), key)


@pytest.mark.parametrize("limit", [512 * 1024, 2 << 20])
@pytest.mark.parametrize("key", ["float32", "tf32"])
def test_wgmma_phases_workspace_cap(key, limit):
    """Under a cap that packs the input in bands filling both buffers, the phases' packs stay
    within it beside split's rerun weight (the whole kernel's 16 taps, 128 KiB, where a
    phase's wgmma pack holds 4; had the phases counted the rerun's as their own, split's
    peak would come to ~550 KiB). At 512 KiB the four phases' weights do not fit beside a
    packed row and each phase runs alone; at 2 MiB they run as one call, in bands."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b = make_case(160, 2, 32, 64, (4, 4), (8, 200), 1, True, DTYPES[key])
    kw = dict(stride=(2, 2), padding=(1, 1), output_padding=(0, 0), dilation=(1, 1), groups=1)
    force_path("implicit")
    gemm_convt.set_workspace_limit(limit)
    out, names = run_profiled(x, w, b, key, **kw)
    assert any("implicit_wgmma_kernel" in name for name in names), names
    torch.cuda.synchronize()
    torch.cuda.reset_peak_memory_stats()
    before = torch.cuda.memory_allocated()
    again = run(x, w, b, key, **kw)
    torch.cuda.synchronize()
    extra = torch.cuda.max_memory_allocated() - before - again.numel() * again.element_size()
    assert 0 < extra <= limit, (extra, limit)
    assert torch.equal(out, again), "a rerun differs"
    assert_matches(out, reference(x, w, b, **kw), key)


@pytest.mark.parametrize("dilation, kernel", [((2, 1), (3, 3)), ((1, 1), (2, 1)), ((1, 1), (4, 4))])
def test_wgmma_phases_refused(dilation, kernel):
    """Dilated strided calls, kernels narrower than the stride (a phase no tap hits), and
    small phase planes (4x4 here: 6 x 13 outputs a phase, 61% of a 128-position tile) keep
    the mma.sync kernel."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b = make_case(150, 2, 16, 64, kernel, (5, 12), 1, True, torch.float32)
    kw = dict(stride=(2, 2), padding=(0, 0), output_padding=(0, 0), dilation=dilation, groups=1)
    force_path("implicit")
    out, names = run_profiled(x, w, b, "tf32", **kw)
    assert not any("implicit_wgmma_kernel" in name for name in names), names
    assert any("implicit_gemm_kernel" in name for name in names), names
    assert_matches(out, reference(x, w, b, **kw), "tf32")


@pytest.mark.parametrize("key, cin, cout, kernel, size, phases", [
    ("fp32", 256, 256, 4, 64, True), ("fp32", 128, 64, 4, 128, True), ("fp32", 256, 128, 4, 32, True),
    ("tf32", 256, 256, 4, 64, True), ("tf32", 128, 128, 3, 64, False), ("tf32", 128, 64, 2, 64, False)],
    ids=["fcn_up", "128-64-128", "256-128-32", "fcn_up-tf32", "k3-128-128-64-tf32", "k2-disjoint-tf32"])
def test_wgmma_phases_default_rule(key, cin, cout, kernel, size, phases):
    """Stride 2, 16 samples, the default rule: it takes the wgmma phases where their own model
    (wgmma_phases.cpp) prices them under the other paths. H200, session 41, phase sets against
    the columns. Strict float32 (split products): fcn_up's layer 1.45-1.59 ms against 2.30,
    128 -> 64 on 128x128 1.13 against 2.26, 256 -> 128 on 32x32 0.39 against 0.56 (session 38
    kept that one on the columns: one call a phase ran 0.48 against 0.47). TF32: fcn_up 0.85
    against 1.13; not 3x3 128 -> 128 on 64x64 (phases 0.61, columns 0.45), nor a 2x2 kernel,
    whose disjoint taps take the disjoint-taps path after the rule."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b = make_case(190, 16, cin, cout, (kernel, kernel), (size, size), 1, True, torch.float32)
    kw = dict(stride=2, padding=(kernel - 1) // 2)  # 4x4 and 3x3: 1, 2x2: 0
    out, names = run_profiled(x, w, b, key, **kw)
    assert any("implicit_wgmma_kernel" in name for name in names) == phases, names
    ref = F.conv_transpose2d(x.double(), w.double(), b.double(), **kw).cpu()  # float64 on the GPU: 70 G products
    assert_matches(out, ref, key)


# path: (its table, seed, the wgmma kernel, the mma.sync kernel)
WGMMA_PATHS = {"implicit": (WGMMA, 99, "implicit_wgmma_kernel", "implicit_gemm_kernel"),
               "disjoint": (WGMMA_DISJOINT, 119, "disjoint_wgmma_kernel", "disjoint_taps_kernel")}


@pytest.mark.parametrize("path, key", [("implicit", "float32"), ("implicit", "tf32"), ("disjoint", "ieee")])
def test_wgmma_agrees_with_mma_sync_kernel(path, key, monkeypatch):
    """The wgmma kernel and the mma.sync one (GEMM_CONVT_WGMMA=0) on the same call: both
    within the float64 tolerance."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    table, seed, wgmma_kernel, mma_sync_kernel = WGMMA_PATHS[path]
    x, w, b, kw = table_case(table, 0, seed, key)
    force_path(path)
    out, names = run_profiled(x, w, b, key, **kw)
    assert any(wgmma_kernel in name for name in names), names
    monkeypatch.setenv("GEMM_CONVT_WGMMA", "0")
    old, old_names = run_profiled(x, w, b, key, **kw)
    assert not any(wgmma_kernel in name for name in old_names), old_names
    assert any(mma_sync_kernel in name for name in old_names), old_names
    ref = reference(x, w, b, **kw)
    assert_matches(out, ref, key)
    assert_matches(old, ref, key)


def forward_in_cuda_graph(x, w, b, kw):
    """A warm-up call outside capture, then the call captured in a CUDA graph: (the graph,
    its input, its output)."""
    static_x = x.clone()
    with torch.no_grad():
        gemm_convt.conv_transpose2d(static_x, w, b, **kw)
        torch.cuda.synchronize()
        graph = torch.cuda.CUDAGraph()
        with torch.cuda.graph(graph):
            static_out = gemm_convt.conv_transpose2d(static_x, w, b, **kw)
    return graph, static_x, static_out


def test_wgmma_in_cuda_graph():
    """Captured in a CUDA graph (the packs, the kernel and the guarded rerun), then replayed
    on new data."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    x, w, b, kw = table_case(WGMMA, 0, 98, "float32")
    force_path("implicit")
    gemm_convt.set_allow_tf32(False)
    graph, static_x, static_out = forward_in_cuda_graph(x, w, b, kw)
    x2 = table_case(WGMMA, 0, 97, "float32")[0]
    static_x.copy_(x2)
    graph.replay()
    torch.cuda.synchronize()
    assert_matches(static_out, reference(x2, w, b, **kw), "float32")


# path: (make_case's seed, Cout, kernel, its keywords, precision key); the input is 2x32x6x140.
WGMMA_NON_FINITE = {"implicit": (79, 64, (3, 3), dict(padding=1), "float32"),
                    "disjoint": (80, 24, (2, 2), dict(stride=2), "ieee")}


@pytest.mark.parametrize("where", ["input", "weight", "largest"])
@pytest.mark.parametrize("path", ["implicit", "disjoint"])
def test_wgmma_non_finite(path, where, helpers):
    """Split float32 on wgmma, outputs as torch's: on the implicit kernel an inf or NaN
    output flags the guarded rerun (the mma.sync kernel), which recomputes every output (a
    non-finite weight also flags the border redo, which recomputes them last); the disjoint
    kernel's parts keep an inf or NaN to the high x high product (no rerun). float32's
    largest values (whose TF32 rounding overflows) give finite outputs."""
    if not wgmma_available():
        pytest.skip("wgmma needs compute capability 9.0")
    seed, cout, kernel, kw, key = WGMMA_NON_FINITE[path]
    x, w, b = make_case(seed, 2, 32, cout, kernel, (6, 140), 1, True, torch.float32)
    plant_non_finite(x, w, where, 120)
    force_path(path)
    out, names = run_profiled(x, w, b, key, **kw)
    assert any(WGMMA_PATHS[path][2] in name for name in names), names
    ref = reference(x, w, b, **kw)
    if where == "largest":
        assert torch.isfinite(out).all()
        assert_matches(out, ref, key)
    else:
        helpers.assert_non_finite_like(out, ref, TOLERANCE[key][0])


def plant_non_finite(x, w, where, far_col):
    """The split products' non-finite cases, in place: in the input an inf, a -inf at column
    far_col, a NaN and a NaN with low payload bits only (read as inf if truncated to TF32) at
    far_col // 2; in the weight an inf and a NaN at tap (1, 1); or ("largest") float32's largest values in
    the input, whose TF32 rounding overflows, with the weight scaled so that every output
    stays finite."""
    if where == "input":
        x[0, 3, 2, 5] = float("inf")
        x[1, 7, 4, far_col] = float("-inf")
        x[1, 2, 5, 20] = float("nan")
        x.view(torch.int32)[0, 9, 1, far_col // 2] = 0x7F800001
    elif where == "weight":  # taps that land on every output they reach (see the border test below)
        w[5, 2, 1, 1] = float("inf")
        w[9, 3, 1, 1] = float("nan")
    else:
        big = torch.finfo(torch.float32).max
        x[0, 3, 2, 5] = big
        x[1, 7, 4, far_col] = -big
        w /= 4


@pytest.mark.parametrize("key", ["ieee", "tf32", "float16"])
@pytest.mark.parametrize("path", ["gemm", "folded", "implicit", "implicit_mma_sync", "gather"])
@pytest.mark.parametrize("case", [0, 1])
def test_non_finite_weight_at_border_taps(case, path, key, helpers, monkeypatch):
    """NaN, +inf and -inf weights at corner taps, which miss the input at a border: torch
    adds nothing there. The implicit GEMM and the width fold multiply those taps by zeros
    (0 x inf is NaN), so a flagged redo recomputes their output from the landing taps; the
    gather's two-column form skips a column whose input is missing."""
    x, w, b, geometry = helpers.non_finite_border_case(case, DTYPES[key], "cuda")
    force_path(path.replace("_mma_sync", "").replace("folded", "gemm"))
    gemm_convt.set_width_folding(path == "folded")
    monkeypatch.setenv("GEMM_CONVT_WGMMA", "0" if path == "implicit_mma_sync" else "1")
    out, names = run_profiled(x, w, b, key, **geometry)
    redone = path in ("folded", "implicit", "implicit_mma_sync")
    assert any("border_redo_kernel" in name for name in names) == redone, names
    ref = reference(x, w, b, **geometry)
    assert torch.isnan(ref).any() and torch.isposinf(ref).any() and torch.isneginf(ref).any()
    helpers.assert_non_finite_like(out, ref, TOLERANCE[key][0])


def test_border_redo_runs_only_when_flagged():
    """A finite weight leaves the implicit GEMM's TF32 output as its kernels wrote it; a NaN
    anywhere in the weight has the redo recompute every output in float32 FMAs, so the
    channels the NaN does not reach come out IEEE-accurate."""
    x, w, b = make_case(93, 2, 32, 16, (3, 3), (6, 140), 1, True, torch.float32)
    force_path("implicit")
    ref = reference(x, w, b, padding=1)
    out = run(x, w, b, "tf32", padding=1)
    assert_matches(out, ref, "tf32")
    rel = ((out.double().cpu() - ref).norm() / ref.norm()).item()
    assert rel > 10 * TOLERANCE["ieee"][0], rel  # TF32's error: not the redo's float32 sums
    w[1, 2, 0, 0] = float("nan")
    redone = run(x, w, b, "tf32", padding=1)
    others = [c for c in range(w.shape[1]) if c != 2]
    assert torch.isnan(redone[:, 2]).any()
    assert_matches(redone[:, others], ref[:, others], "ieee")


def _non_finite_case_geometry(path):
    """The kernel and call arguments of the non-finite tests: disjoint taps need a kernel
    that fits its stride (2x2 stride 2); the other paths take 3x3, padding 1."""
    return ((2, 2), dict(stride=2)) if path == "disjoint" else ((3, 3), dict(padding=1))


@pytest.mark.parametrize("where", ["input", "weight"])
@pytest.mark.parametrize("key", ["ieee", "tf32", "float16"])
@pytest.mark.parametrize("path", ["gemm", "gather", "implicit", "disjoint"])
def test_infinities_and_nans_propagate(path, key, where, helpers, monkeypatch):
    """An inf or NaN in the input or the weight reaches the outputs it feeds as torch's do
    (the implicit GEMM's three TF32 products must not add inf - inf or 0 x inf: its guarded
    rerun; a non-finite weight there also has the border redo recompute the output). "ieee": cuBLAS's IEEE GEMM on the GEMM path, three products on the implicit
    one. The split columns GEMM: test_split_products_non_finite."""
    k, kw = _non_finite_case_geometry(path)
    x, w, b = make_case(77, 2, 16, 8, k, (6, 140), 1, True, DTYPES[key])
    if where == "input":
        x[0, 3, 2, 5] = float("inf")
        x[1, 7, 4, 100] = float("-inf")
        x[1, 2, 5, 20] = float("nan")
        # a NaN whose payload is only in the low bits (read as inf if truncated to TF32)
        bits = x.view(torch.int16 if key == "float16" else torch.int32)
        bits[0, 9, 1, 60] = 0x7C01 if key == "float16" else 0x7F800001
    else:
        w[5, 2, 1, 1] = float("inf")
    force_path(path)
    monkeypatch.setenv("GEMM_CONVT_WGMMA", "0")  # the mma.sync kernels (test_wgmma_*non_finite: the others)
    helpers.assert_non_finite_like(run(x, w, b, key, **kw), reference(x, w, b, **kw), TOLERANCE[key][0])


@pytest.mark.parametrize("path", ["gemm", "gather", "implicit", "disjoint"])
def test_float32_near_its_largest_value(path, monkeypatch):
    """Inputs whose TF32 rounding overflows (float32's largest values) give finite outputs
    where torch's are finite: the implicit GEMM's three products turn them into NaN, so its
    guarded rerun truncates them instead."""
    k, kw = _non_finite_case_geometry(path)
    x, w, b = make_case(78, 2, 16, 8, k, (6, 140), 1, True, torch.float32)
    big = torch.finfo(torch.float32).max
    x[0, 3, 2, 5] = big
    x[1, 7, 4, 100] = -big
    w /= 4  # every output stays finite
    force_path(path)
    monkeypatch.setenv("GEMM_CONVT_WGMMA", "0")  # the mma.sync kernels (test_wgmma_*non_finite: the others)
    out = run(x, w, b, "ieee", **kw).double().cpu()
    ref = reference(x, w, b, **kw)
    assert torch.isfinite(ref).all()
    assert torch.isfinite(out).all()
    err = ((out - ref).norm() / ref.norm()).item()
    assert err <= TOLERANCE["ieee"][0], err
    hit = (out - b.double().cpu().view(1, -1, 1, 1)).abs() > 1e30  # the outputs the big values feed
    assert hit.sum() > 0
    assert torch.allclose(out[hit], ref[hit], rtol=1e-6, atol=0)


# The default float32 rule (problem.h's split_tf32_takes), on GEMM + col2im: split TF32
# products on folded operands where the fold applies and at least halves the columns,
# the IEEE GEMM elsewhere. (kernel, call arguments, split)
SPLIT_RULE_CASES = [
    ((4, 4), dict(stride=2, padding=1), True),                  # dcgan / fcn_up: 16 -> 8 values
    ((3, 3), dict(padding=1), True),                            # stride 1: 9 -> 3
    ((3, 3), dict(stride=2, padding=1, output_padding=1), False),  # 9 -> 6: IEEE
    ((3, 1), dict(stride=2), False),                            # no width to fold
]


@pytest.mark.parametrize("k, geometry, split", SPLIT_RULE_CASES)
def test_fp32_split_rule(k, geometry, split):
    x, w, b = make_case(81, 3, 24, 8, k, (7, 12), 1, True, torch.float32)
    force_path("gemm")
    gemm_convt.set_width_folding(None)
    out, names = run_profiled(x, w, b, "fp32", **geometry)
    # Strict float32 folds only for split products (the IEEE GEMM keeps plain columns).
    assert any("unfold_phases_kernel" in name for name in names) == split, names
    assert_matches(out, reference(x, w, b, **geometry), "fp32")
    assert torch.equal(out, run(x, w, b, "fp32", **geometry)), "a rerun differs"


@pytest.mark.parametrize("fold", [True, False], ids=["folded", "plain"])
@pytest.mark.parametrize("where", ["input", "weight", "largest"])
def test_split_products_non_finite(where, fold, helpers):
    """Split TF32 products (set_fp32_split(True)) on folded and plain operands: an inf or
    NaN reaches the outputs it feeds as torch's do (the cross products take 0 for it, not
    inf x 0), and float32's largest values (whose TF32 rounding overflows) give finite
    outputs (truncated instead)."""
    geometry = dict(stride=2, padding=1)
    x, w, b = make_case(79, 2, 16, 8, (4, 4), (6, 70), 1, True, torch.float32)
    plant_non_finite(x, w, where, 60)
    force_path("gemm")
    gemm_convt.set_width_folding(fold)
    out, names = run_profiled(x, w, b, "float32", **geometry)
    assert any("unfold_phases_kernel" in name for name in names) == fold, names
    helpers.assert_non_finite_like(out, reference(x, w, b, **geometry), TOLERANCE["float32"][0])


def test_cpu_and_cuda_agree():
    x, w, b = make_case(3, 3, 6, 4, (3, 5), (11, 7), 3, True, torch.float64)
    kw = dict(stride=(2, 1), padding=(1, 2), output_padding=(1, 0), dilation=(1, 2), groups=3)
    with torch.no_grad():
        gpu = gemm_convt.conv_transpose2d(x, w, b, **kw).cpu()
        cpu = gemm_convt.conv_transpose2d(x.cpu(), w.cpu(), b.cpu(), **kw)
    assert torch.allclose(gpu, cpu, rtol=1e-12, atol=1e-12)


@pytest.mark.parametrize("layout", ["channels_last", "sliced", "transposed", "channels_last_weight"])
@pytest.mark.parametrize("k", [(3, 3), (1, 1)])
def test_layouts(layout, k):
    x, w, b = make_case(11, 3, 8, 4, k, (10, 12), 2, True, torch.float32)
    if layout == "channels_last":
        x = x.contiguous(memory_format=torch.channels_last)
    elif layout == "sliced":
        x = torch.cat([x, x], dim=1)[:, ::2]  # channel stride 2*H*W
        x = x[:, :, 1:, :-1]                  # and cropped spatially
    elif layout == "transposed":
        x = x.transpose(2, 3).contiguous().transpose(2, 3)
    else:
        w = w.contiguous(memory_format=torch.channels_last)
    kw = dict(stride=1 if k == (1, 1) else 2, padding=0 if k == (1, 1) else 1, groups=2)
    out = run(x, w, b, "float32", **kw)
    assert_matches(out, reference(x, w, b, **kw), "float32")
    with torch.no_grad():
        torch_out = F.conv_transpose2d(x, w, b, **kw)
    # The layout torch (cuDNN) gives: channels_last for channels_last input.
    assert out.is_contiguous(memory_format=torch.channels_last) == torch_out.is_contiguous(
        memory_format=torch.channels_last)
    if layout == "channels_last":
        assert out.is_contiguous(memory_format=torch.channels_last)


def test_unbatched_and_empty():
    x, w, b = make_case(5, 1, 4, 3, (3, 3), (6, 6), 1, True, torch.float32)
    kw = dict(stride=2, padding=1)
    assert_matches(run(x[0], w, b, "float32", **kw).unsqueeze(0), reference(x, w, b, **kw), "float32")
    empty = run(x[:0], w, b, "float32", **kw)
    assert empty.shape == (0, 3, 11, 11) and empty.is_cuda


def test_bitwise_deterministic():
    x, w, b = make_case(13, 4, 32, 16, (3, 3), (33, 47), 1, True, torch.float32)
    first = run(x, w, b, "float32", stride=2, padding=1)
    for _ in range(3):
        assert torch.equal(run(x, w, b, "float32", stride=2, padding=1), first)


def test_side_stream_and_graph_capture():
    x, w, b = make_case(17, 2, 8, 4, (3, 3), (16, 16), 1, True, torch.float32)
    kw = dict(stride=2, padding=1)
    ref = reference(x, w, b, **kw)
    gemm_convt.set_allow_tf32(False)
    stream = torch.cuda.Stream()
    stream.wait_stream(torch.cuda.current_stream())
    with torch.no_grad(), torch.cuda.stream(stream):
        out = gemm_convt.conv_transpose2d(x, w, b, **kw)
    torch.cuda.current_stream().wait_stream(stream)
    assert_matches(out, ref, "float32")

    graph, static_x, static_out = forward_in_cuda_graph(x, w, b, kw)
    x2, _, _ = make_case(18, 2, 8, 4, (3, 3), (16, 16), 1, True, torch.float32)
    static_x.copy_(x2)
    graph.replay()
    torch.cuda.synchronize()
    assert_matches(static_out, reference(x2, w, b, **kw), "float32")


# A training step (forward + backward) captured in a CUDA graph, which removes the host time
# small layers are bound by (README, Benchmark): the forward's two side streams (chunked
# columns), the backward's chunks, the implicit GEMM and grad_weight kernels (stride 1) all
# replay on new data. Gradients land in the .grad tensors the capture allocated.
@pytest.mark.parametrize("stride,limit,path", [(2, 100000, "gemm"), (2, None, "auto"), (1, None, "auto")])
def test_training_step_in_a_cuda_graph(stride, limit, path):
    x, w, b = make_case(29, 3, 32, 32, (4, 4), (12, 12), 1, True, torch.float32)
    kw = dict(stride=stride, padding=1)
    gemm_convt.set_allow_tf32(False)
    gemm_convt.set_workspace_limit(limit)
    if path == "gemm":
        force_path("gemm")
    x, w, b = (t.requires_grad_() for t in (x, w, b))
    grad = torch.randn(reference(x, w, b, **kw).shape, generator=torch.Generator().manual_seed(3)).cuda()
    side = torch.cuda.Stream()
    side.wait_stream(torch.cuda.current_stream())
    with torch.cuda.stream(side):  # warm-up outside capture (plans, workspaces)
        for _ in range(2):
            gemm_convt.conv_transpose2d(x, w, b, **kw).backward(grad)
    torch.cuda.current_stream().wait_stream(side)
    for t in (x, w, b):
        t.grad = None
    graph = torch.cuda.CUDAGraph()
    with torch.cuda.graph(graph):
        gemm_convt.conv_transpose2d(x, w, b, **kw).backward(grad)
    x2, w2, b2 = make_case(30, 3, 32, 32, (4, 4), (12, 12), 1, True, torch.float32)
    with torch.no_grad():
        x.copy_(x2), w.copy_(w2), b.copy_(b2)
    graph.replay()
    torch.cuda.synchronize()
    leaves = [t.double().cpu().requires_grad_() for t in (x2, w2, b2)]
    F.conv_transpose2d(*leaves, **kw).backward(grad.double().cpu())
    for got, ref in zip((x.grad, w.grad, b.grad), leaves):
        assert_matches(got, ref.grad, "float32")


def test_tf32_is_really_used_and_strict_is_not():
    # Large K makes the TF32 error visible: strict must be ~1e-6, TF32 ~1e-4..1e-3.
    x, w, b = make_case(19, 2, 512, 8, (3, 3), (16, 16), 1, False, torch.float32)
    ref = reference(x, w, b)
    err = {}
    for key in ("float32", "tf32"):
        out = run(x, w, b, key).double().cpu()
        err[key] = ((out - ref).norm() / ref.norm()).item()
    assert err["float32"] < 1e-5
    assert err["tf32"] > 10 * err["float32"]


def test_default_fp32_meets_kernelbench_tolerance():
    """KernelBench judges against nn.ConvTranspose2d with allclose(atol=rtol=1e-4);
    #75's geometry (grouped, dilated, strided) at batch 2 under the default policy."""
    g = torch.Generator().manual_seed(75)
    ref_layer = torch.nn.ConvTranspose2d(32, 64, (3, 5), stride=(2, 3), padding=(1, 2), dilation=(2, 1),
                                         groups=4, bias=False)
    x = torch.randn(2, 32, 128, 256, generator=g)
    with torch.no_grad():
        expected = ref_layer.double().cuda()(x.double().cuda())
        layer = gemm_convt.convert(ref_layer.float()).cuda()
        gemm_convt.set_allow_tf32(None)
        out = layer(x.cuda())
    assert torch.allclose(out.double(), expected, atol=1e-4, rtol=1e-4)
    assert ((out.double() - expected).norm() / expected.norm()).item() < 1e-5


@pytest.mark.skipif(torch.cuda.device_count() < 2, reason="needs two GPUs")
def test_second_device():
    x, w, b = make_case(23, 2, 4, 3, (3, 3), (8, 8), 1, True, torch.float32, device="cuda:1")
    out = run(x, w, b, "float32", stride=2)
    assert out.device == x.device
    assert_matches(out, reference(x, w, b, stride=2), "float32")


def test_device_mismatch_raises():
    x, w, b = make_case(29, 1, 4, 3, (3, 3), (8, 8), 1, True, torch.float32)
    with pytest.raises(ValueError, match="weight on device"):
        run(x, w.cpu(), b, "float32")
    with pytest.raises(ValueError, match="bias on device"):
        run(x, w, b.cpu(), "float32")


def _check_rows(out, x, w, b, rows, kw):
    """Reference for output rows [2*r0, 2*r1) of the last sample (kernel 2, stride 2: no overlap)."""
    r0, r1 = rows
    ref = F.conv_transpose2d(x[-1:, :, r0:r1].double(), w.double(), b.double(), **kw)
    got = out[-1:, :, 2 * r0:2 * r1].double()
    rel = ((got - ref).norm() / ref.norm()).item()
    assert torch.isfinite(got).all() and rel < TOLERANCE["float16"][0], rel


@pytest.mark.slow
@pytest.mark.parametrize("memory_format", [torch.contiguous_format, torch.channels_last])
def test_output_over_2_to_31_elements(memory_format):
    # 1 x 4 -> 64 channels, 2900x2900 -> 5800x5800: 2.15e9 output elements (4.3 GB fp16).
    # channels_last makes a single chunk's offsets exceed 2^31 (the int64 kernel);
    # NCHW keeps chunks int32 but their absolute offsets pass 2^31.
    free, _ = torch.cuda.mem_get_info()
    if free < 12 * 2 ** 30:
        pytest.skip("needs 12 GiB of free GPU memory")
    x, w, b = make_case(31, 1, 4, 64, (2, 2), (2900, 2900), 1, True, torch.float16)
    x = x.contiguous(memory_format=memory_format)
    kw = dict(stride=2)
    out = run(x, w, b, "float16", **kw)
    assert out.numel() > 2 ** 31
    for rows in [(0, 3), (1450, 1453), (2897, 2900)]:
        _check_rows(out, x, w, b, rows, kw)
    # the very last channel plane too
    ref_last = F.conv_transpose2d(x[:, :, -2:].double(), w.double(), b.double(), **kw)[:, -1]
    assert torch.allclose(out[:, -1, -4:].double(), ref_last, rtol=4e-3, atol=4e-3)
