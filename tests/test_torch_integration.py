"""The registered operator in the rest of PyTorch: meta / fake kernels,
torch.compile (fullgraph, output_size, dynamic batch, training),
torch.jit.script / trace with save and load, torch.export, and autocast.
Each compares with the eager result of the same converted model, which the
functional tests compare with torch's float64 reference. APIs a torch version
lacks (torch.compile / torch.export / register_fake before 2.x) skip with the
reason."""
import io

import pytest
import torch
import torch.nn.functional as F

import gemm_convt

TORCH = tuple(int(v) for v in torch.__version__.split("+")[0].split(".")[:2])
OP = "gemm_convt.conv_transpose2d"
needs_compile = pytest.mark.skipif(not hasattr(torch, "compile"), reason="torch.compile needs torch >= 2.0")
needs_export = pytest.mark.skipif(not hasattr(torch, "export") or TORCH < (2, 2),
                                  reason="torch.export of custom operators needs torch >= 2.2")
needs_fake_api = pytest.mark.skipif(not gemm_convt._fake.REGISTERED,
                                    reason="torch.library.register_fake / impl_abstract need torch >= 2.1")
# torch >= 2.9 warns that TorchScript is deprecated (FutureWarning from torch.jit).
jit_warnings = pytest.mark.filterwarnings("ignore::FutureWarning")


def _model():
    torch.manual_seed(701)
    model = torch.nn.Sequential(
        torch.nn.ConvTranspose2d(6, 4, 3, stride=2, padding=1, output_padding=1),
        torch.nn.ReLU(),
        torch.nn.ConvTranspose2d(4, 4, (2, 3), stride=(2, 1), dilation=(1, 2), groups=2, bias=False),
    )
    return gemm_convt.convert(model)


def _input(batch=2, seed=702, **kwargs):
    gen = torch.Generator().manual_seed(seed)
    return torch.randn(batch, 6, 5, 7, generator=gen, **kwargs)


# --- meta / fake kernels -------------------------------------------------------

GEOMETRIES = [
    dict(x=(2, 6, 5, 7), w=(6, 2, 3, 3), kw=dict(stride=2, padding=1, output_padding=1, groups=3)),
    dict(x=(6, 5, 7), w=(6, 4, 2, 3), kw=dict(stride=(2, 1), dilation=(1, 2))),
    dict(x=(2, 6, 5, 7), w=(6, 4, 3, 3), kw=dict(), channels_last=True),
    dict(x=(0, 6, 5, 7), w=(6, 4, 3, 3), kw=dict()),
]


@pytest.mark.parametrize("g", GEOMETRIES, ids=["groups", "unbatched", "channels_last", "empty-batch"])
def test_meta_tensors_match_real_results(g):
    gen = torch.Generator().manual_seed(703)
    x, w = torch.randn(*g["x"], generator=gen), torch.randn(*g["w"], generator=gen)
    if g.get("channels_last"):
        x = x.to(memory_format=torch.channels_last)
    with torch.no_grad():
        real = gemm_convt.conv_transpose2d(x, w, **g["kw"])
        meta = gemm_convt.conv_transpose2d(x.to("meta"), w.to("meta"), **g["kw"])
    assert meta.device.type == "meta"
    assert meta.shape == real.shape and meta.dtype == real.dtype
    if real.numel():
        assert meta.stride() == real.stride()


@needs_fake_api
@pytest.mark.skipif(not hasattr(torch.library, "opcheck"), reason="torch.library.opcheck needs torch >= 2.4")
@pytest.mark.parametrize("case", ["bias-grad", "unbatched", "channels_last", "backward-op"])
def test_opcheck(case):
    """torch's own operator checks: schema, autograd registration, fake tensors
    (shapes and strides equal the real kernel's) and AOT dispatch with dynamic shapes."""
    gen = torch.Generator().manual_seed(704)
    x, w, b = torch.randn(2, 4, 5, 6, generator=gen), torch.randn(4, 3, 3, 3, generator=gen), torch.randn(3)
    geometry = ([2, 1], [1, 0], [1, 0], [1, 2], 1)
    if case == "bias-grad":
        op, args = torch.ops.gemm_convt.conv_transpose2d.default, (
            x.requires_grad_(), w.requires_grad_(), b.requires_grad_()) + geometry
    elif case == "unbatched":
        op, args = torch.ops.gemm_convt.conv_transpose2d.default, (x[0], w, None) + geometry
    elif case == "channels_last":
        op, args = torch.ops.gemm_convt.conv_transpose2d.default, (
            x.to(memory_format=torch.channels_last), w, b) + geometry
    else:
        gy = torch.randn(2, 3, 10, 10, generator=gen)
        op, args = torch.ops.gemm_convt.conv_transpose2d_backward.default, (gy, x, w) + geometry + ([True, False,
                                                                                                     True],)
    result = torch.library.opcheck(op, args)
    assert all(v == "SUCCESS" for v in result.values()), result


# --- torch.compile --------------------------------------------------------------


class _GraphRecorder:
    """A torch.compile backend that records each graph and runs it eagerly."""

    def __init__(self):
        self.graphs = []

    def __call__(self, gm, example_inputs):
        self.graphs.append(gm)
        return gm.forward

    def op_calls(self):
        return sum(str(node.target) == OP or OP in str(node.target)
                   for gm in self.graphs for node in gm.graph.nodes if node.op == "call_function")


@needs_fake_api
@needs_compile
def test_compile_fullgraph_one_graph_with_our_op():
    torch._dynamo.reset()
    model = _model()
    recorder = _GraphRecorder()
    compiled = torch.compile(model, backend=recorder, fullgraph=True)
    x = _input()
    with torch.no_grad():
        assert torch.equal(compiled(x), model(x))
    assert len(recorder.graphs) == 1 and recorder.op_calls() == 2


@needs_fake_api
@needs_compile
def test_compile_output_size():
    """pytorch#100344: output_size= must not break the graph."""
    torch._dynamo.reset()
    layer = gemm_convt.ConvTranspose2d(6, 4, 3, stride=2)
    recorder = _GraphRecorder()
    fn = torch.compile(lambda x: layer(x, output_size=(12, 16)), backend=recorder, fullgraph=True)
    x = _input()
    with torch.no_grad():
        out = fn(x)
        assert out.shape == (2, 4, 12, 16) and torch.equal(out, layer(x, output_size=(12, 16)))
        assert torch.equal(fn(x[0]), layer(x[0], output_size=(12, 16)))  # unbatched: a second graph
    assert recorder.op_calls() >= 1


@needs_fake_api
@needs_compile
def test_compile_dynamic_batch_compiles_once():
    torch._dynamo.reset()
    model = _model()
    recorder = _GraphRecorder()
    compiled = torch.compile(model, backend=recorder, fullgraph=True, dynamic=True)
    with torch.no_grad():
        for batch in (2, 5, 7):
            x = _input(batch, seed=705 + batch)
            assert torch.equal(compiled(x), model(x))
    assert len(recorder.graphs) == 1, "a new batch size recompiled"


@needs_fake_api
@needs_compile
def test_compile_training_step_aot():
    """Forward and backward through AOTAutograd (our backward operator's fake kernel)."""
    torch._dynamo.reset()
    model = _model()
    compiled = torch.compile(model, backend="aot_eager", fullgraph=True)
    x = _input()
    compiled(x).square().sum().backward()
    got = [p.grad.clone() for p in model.parameters()]
    model.zero_grad()
    model(x).square().sum().backward()
    for g, want in zip(got, [p.grad for p in model.parameters()]):
        torch.testing.assert_close(g, want, rtol=1e-6, atol=1e-6)


@needs_fake_api
@needs_compile
def test_compile_inductor():
    torch._dynamo.reset()
    model = _model()
    compiled = torch.compile(model, fullgraph=True)  # the default backend, as users call it
    x = _input()
    with torch.no_grad():
        torch.testing.assert_close(compiled(x), model(x), rtol=1e-6, atol=1e-6)


# --- TorchScript ------------------------------------------------------------------


def _save_load(module):
    buffer = io.BytesIO()
    torch.jit.save(module, buffer)
    buffer.seek(0)
    return torch.jit.load(buffer)


@jit_warnings
def test_jit_script_save_load():
    model = _model()
    loaded = _save_load(torch.jit.script(model))
    x = _input()
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))
        assert torch.equal(loaded(x[0]), model(x[0]))


@jit_warnings
def test_jit_script_output_size():
    layer = gemm_convt.ConvTranspose2d(6, 4, 3, stride=2)
    scripted = _save_load(torch.jit.script(layer))
    x = _input()
    with torch.no_grad():
        for size in ([12, 16], [2, 4, 11, 15]):
            assert torch.equal(scripted(x, output_size=size), layer(x, output_size=size))
        assert torch.equal(scripted(x[0], output_size=[12, 16]), layer(x[0], output_size=[12, 16]))
        with pytest.raises(Exception, match=r"expected output_size\[-2\] between 11 and 12, but got 40"):
            scripted(x, output_size=[40, 16])


@jit_warnings
def test_jit_trace_save_load_other_shapes():
    model = _model()
    with torch.no_grad():
        traced = torch.jit.trace(model, _input())
    assert "gemm_convt::conv_transpose2d" in str(traced.inlined_graph)
    loaded = _save_load(traced)
    x = _input(batch=3, seed=706)[..., :4, :6]  # another batch and spatial size
    with torch.no_grad():
        assert torch.equal(loaded(x), model(x))


# --- torch.export -----------------------------------------------------------------


@needs_fake_api
@needs_export
def test_export_dynamic_batch_save_load():
    model = _model()
    batch = torch.export.Dim("batch")
    exported = torch.export.export(model, (_input(),), dynamic_shapes=({0: batch},))
    targets = [str(n.target) for n in exported.graph.nodes if n.op == "call_function"]
    assert sum(OP in t for t in targets) == 2, targets
    buffer = io.BytesIO()
    torch.export.save(exported, buffer)
    buffer.seek(0)
    loaded = torch.export.load(buffer)
    x = _input(batch=5, seed=707)
    with torch.no_grad():
        assert torch.equal(loaded.module()(x), model(x))


# --- autocast -------------------------------------------------------------------------


def _autocast_cases(device):
    dtypes = [torch.bfloat16] + ([torch.float16] if device == "cuda" or TORCH >= (2, 0) else [])
    pairs = [(torch.float32, torch.float32), (torch.bfloat16, torch.float32), (torch.float16, torch.float16),
             (torch.float64, torch.float64)]
    return [(a, x, w) for a in dtypes for x, w in pairs]


def _check_autocast_like_torch(device, autocast_dtype, x_dtype, w_dtype):
    gen = torch.Generator().manual_seed(708)
    x = torch.randn(2, 4, 5, 6, generator=gen).to(device, x_dtype)
    w = torch.randn(4, 3, 3, 3, generator=gen).to(device, w_dtype)
    b = torch.randn(3, generator=gen).to(device, w_dtype)
    with torch.no_grad(), torch.autocast(device, dtype=autocast_dtype):
        want = F.conv_transpose2d(x, w, b, stride=2)
        got = gemm_convt.conv_transpose2d(x, w, b, stride=2)
    assert got.dtype == want.dtype, (got.dtype, want.dtype)
    # Same dtype, same rounded inputs: the results agree to that dtype's rounding.
    tol = {torch.float64: 1e-12, torch.float32: 1e-5, torch.bfloat16: 2e-2, torch.float16: 4e-3}[want.dtype]
    torch.testing.assert_close(got.double(), want.double(), rtol=tol, atol=tol * want.double().abs().max().item())


@pytest.mark.parametrize("autocast_dtype, x_dtype, w_dtype", _autocast_cases("cpu"), ids=str)
def test_autocast_cpu_runs_in_torchs_dtype(autocast_dtype, x_dtype, w_dtype):
    """Under torch.autocast("cpu") our op gets the dtype F.conv_transpose2d gets
    (the autocast dtype on torch >= 2.0; float32 on torch 1.13)."""
    _check_autocast_like_torch("cpu", autocast_dtype, x_dtype, w_dtype)


@pytest.mark.cuda
@pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")
@pytest.mark.parametrize("autocast_dtype, x_dtype, w_dtype", _autocast_cases("cuda"), ids=str)
def test_autocast_cuda_runs_in_torchs_dtype(autocast_dtype, x_dtype, w_dtype):
    _check_autocast_like_torch("cuda", autocast_dtype, x_dtype, w_dtype)


@pytest.mark.parametrize("device", ["cpu", pytest.param("cuda", marks=[
    pytest.mark.cuda, pytest.mark.skipif(not torch.cuda.is_available(), reason="needs a CUDA device")])])
def test_autocast_converted_model_trains(device):
    """A converted model under autocast: layer outputs feed the next layer in the
    autocast dtype while the parameters stay float32; gradients reach them."""
    model = _model().to(device)
    reference = torch.nn.Sequential(*[torch.nn.ConvTranspose2d(m.in_channels, m.out_channels, m.kernel_size,
                                                               m.stride, m.padding, m.output_padding, m.groups,
                                                               m.bias is not None, m.dilation)
                                      if isinstance(m, gemm_convt.ConvTranspose2d) else m for m in model]).to(device)
    reference.load_state_dict(model.state_dict())
    x = _input().to(device)
    with torch.autocast(device, dtype=torch.bfloat16):
        out, want = model(x), reference(x)
    assert out.dtype == want.dtype
    out.float().square().sum().backward()
    want.float().square().sum().backward()
    for p, q in zip(model.parameters(), reference.parameters()):
        assert p.grad is not None and p.grad.dtype == torch.float32 and torch.isfinite(p.grad).all()
        torch.testing.assert_close(p.grad, q.grad, rtol=5e-2, atol=5e-2 * q.grad.abs().max().item())
