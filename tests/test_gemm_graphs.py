"""cuBLAS GEMMs replayed from CUDA graphs (gemm_convt.set_gemm_graphs, the default): a
replay must give the eager call's bits, read the operands' current values, and follow
the stream it is called on. Skips cleanly without a GPU."""
import pytest
import torch

import gemm_convt
from gemm_convt._native import _C

pytestmark = [pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")]

# (key, workspace limit, width folding, n, cin, cout_g, k, hw, groups, geometry): chunked
# calls with one buffer and two (the forward's streams), folded and plain columns, samples
# side by side and split into bands, the backward's chunks.
CASES = [
    ("tf32", 200_000, True, 4, 32, 16, (4, 4), (12, 12), 1, dict(stride=2, padding=1)),
    ("tf32", None, False, 3, 24, 8, (3, 3), (9, 7), 1, dict(padding=1)),
    ("ieee", 60_000, False, 5, 16, 8, (3, 3), (8, 8), 2, dict(stride=2, output_padding=1)),
    ("float16", 100_000, True, 4, 32, 16, (4, 4), (10, 10), 1, dict(stride=2, padding=1)),
    ("bfloat16", 50_000, False, 2, 16, 24, (5, 3), (7, 9), 1, dict(dilation=(2, 1))),
    ("float64", 80_000, False, 3, 8, 8, (3, 3), (6, 6), 1, dict(stride=2)),
]
DTYPE = {"tf32": torch.float32, "ieee": torch.float32, "float16": torch.float16,
         "bfloat16": torch.bfloat16, "float64": torch.float64}


def cached():
    return _C._gemm_graph_stats()["cached"]


def assert_correct(out, x, w, b, key, helpers, **kw):
    """Against float64; TF32 (10-bit operands) to 5e-3 of the reference's norm."""
    ref = helpers.reference(x, w, b, **kw)
    if key != "tf32":
        return helpers.assert_close_to_reference(out.detach(), ref, out.dtype, "cuda")
    rel = ((out.detach().double().cpu() - ref).norm() / ref.norm()).item()
    assert rel <= 5e-3, rel


def configure(key, limit, fold):
    gemm_convt.set_allow_tf32(key == "tf32")
    gemm_convt.set_workspace_limit(limit)
    gemm_convt.set_width_folding(fold)
    gemm_convt.set_implicit_gemm(False)  # GEMM + col2im, the path with cuBLAS calls
    gemm_convt.set_direct_gather(False)
    gemm_convt.set_disjoint_taps(False)


def step(x, w, b, grad, kw):
    """Forward and backward of the layer: the output and the three gradients."""
    leaves = [t.detach().requires_grad_() for t in (x, w, b)]
    out = gemm_convt.conv_transpose2d(*leaves, **kw)
    out.backward(grad)
    return [out.detach()] + [t.grad for t in leaves]


@pytest.fixture(autouse=True)
def _fresh_graphs():
    gemm_convt.release_gemm_graphs()
    yield
    gemm_convt.release_gemm_graphs()


@pytest.mark.parametrize("case", range(len(CASES)), ids=[c[0] for c in CASES])
def test_replays_give_the_eager_bits(case, helpers):
    key, limit, fold, n, cin, cout_g, k, hw, groups, kw = CASES[case]
    configure(key, limit, fold)
    kw = dict(kw, groups=groups)
    x, w, b = helpers.make_inputs(500 + case, n, cin, cout_g, k, hw, groups, True, DTYPE[key], device="cuda")
    grad = helpers.randn(helpers.reference(x, w, b, **kw).shape, 600 + case, DTYPE[key]).cuda()
    gemm_convt.set_gemm_graphs(False)
    eager = step(x, w, b, grad, kw)
    assert cached() == 0
    gemm_convt.set_gemm_graphs(True)
    for _ in range(3):  # the first call runs eagerly, later ones replay
        assert all(torch.equal(r, e) for r, e in zip(step(x, w, b, grad, kw), eager))
    assert cached() > 0
    assert_correct(eager[0], x, w, b, key, helpers, **kw)


def test_replays_read_the_operands_current_values(helpers):
    configure("tf32", 200_000, True)
    x, w, b = helpers.make_inputs(7, 4, 32, 16, (4, 4), (12, 12), device="cuda")
    kw = dict(stride=2, padding=1)
    with torch.no_grad():
        for _ in range(3):
            gemm_convt.conv_transpose2d(x, w, b, **kw)
        assert cached() > 0
        x2, w2, b2 = helpers.make_inputs(8, 4, 32, 16, (4, 4), (12, 12), device="cuda")
        x.copy_(x2), w.copy_(w2), b.copy_(b2)  # same storage, new values
        replayed = gemm_convt.conv_transpose2d(x, w, b, **kw)
        gemm_convt.set_gemm_graphs(False)
        assert torch.equal(replayed, gemm_convt.conv_transpose2d(x, w, b, **kw))
    assert_correct(replayed, x, w, b, "tf32", helpers, **kw)


def test_replays_on_a_user_stream_and_after_release(helpers):
    configure("ieee", 60_000, False)
    x, w, b = helpers.make_inputs(9, 5, 16, 8, (3, 3), (8, 8), device="cuda")
    with torch.no_grad():
        gemm_convt.set_gemm_graphs(False)
        eager = gemm_convt.conv_transpose2d(x, w, b, stride=2)
        gemm_convt.set_gemm_graphs(True)
        stream = torch.cuda.Stream()
        stream.wait_stream(torch.cuda.current_stream())
        with torch.cuda.stream(stream):
            outs = [gemm_convt.conv_transpose2d(x, w, b, stride=2) for _ in range(3)]
        torch.cuda.current_stream().wait_stream(stream)
        assert all(torch.equal(o, eager) for o in outs)
        gemm_convt.release_gemm_graphs()
        assert cached() == 0
        assert all(torch.equal(gemm_convt.conv_transpose2d(x, w, b, stride=2), eager) for _ in range(3))
