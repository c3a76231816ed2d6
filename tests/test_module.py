"""gemm_convt.ConvTranspose2d against torch.nn.ConvTranspose2d."""
import pytest
import torch

import gemm_convt

CONSTRUCTOR_ARGS = [
    pytest.param(dict(in_channels=4, out_channels=3, kernel_size=3), id="default"),
    pytest.param(dict(in_channels=4, out_channels=6, kernel_size=(3, 2), stride=(2, 1), padding=(1, 0),
                      output_padding=(1, 0), groups=2, bias=False, dilation=(1, 2)), id="all-args-nobias"),
    pytest.param(dict(in_channels=4, out_channels=4, kernel_size=2, stride=4, groups=4), id="depthwise-s4"),
    pytest.param(dict(in_channels=2, out_channels=5, kernel_size=(1, 3), stride=1, dilation=3,
                      output_padding=2, padding_mode="zeros"), id="op-lt-dilation"),
]

GEOMETRY_ATTRS = ("in_channels", "out_channels", "kernel_size", "stride", "padding", "output_padding", "groups",
                  "dilation", "padding_mode", "transposed")


def _pair_of_modules(args, seed, dtype=None):
    kwargs = dict(args)
    if dtype is not None:
        kwargs["dtype"] = dtype
    torch.manual_seed(seed)
    theirs = torch.nn.ConvTranspose2d(**kwargs)
    torch.manual_seed(seed)
    ours = gemm_convt.ConvTranspose2d(**kwargs)
    return theirs, ours


def _geometry(m):
    return dict(stride=m.stride, padding=m.padding, output_padding=m.output_padding, groups=m.groups,
                dilation=m.dilation)


@pytest.mark.parametrize("args", CONSTRUCTOR_ARGS)
def test_constructor_and_initialisation_match_torch(args):
    theirs, ours = _pair_of_modules(args, seed=101)
    assert isinstance(ours, torch.nn.ConvTranspose2d)
    assert type(ours) is gemm_convt.ConvTranspose2d
    for name in GEOMETRY_ATTRS:
        assert getattr(ours, name) == getattr(theirs, name), name
    assert ours.extra_repr() == theirs.extra_repr()
    assert [n for n, _ in ours.named_parameters()] == [n for n, _ in theirs.named_parameters()]
    assert (ours.bias is None) == (args.get("bias", True) is False)
    for (name, p_ours), (_, p_theirs) in zip(ours.named_parameters(), theirs.named_parameters()):
        assert p_ours.shape == p_theirs.shape and p_ours.dtype == p_theirs.dtype, name
        assert p_ours.requires_grad, name
        # Same seed, same initialisation scheme: identical bits.
        assert torch.equal(p_ours, p_theirs), name
        assert p_ours.std() > 0, name
    # And a different seed gives different values (the comparison above is not vacuous).
    torch.manual_seed(102)
    other = gemm_convt.ConvTranspose2d(**args)
    assert not torch.equal(other.weight, ours.weight)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32, torch.bfloat16, torch.float16],
                         ids=["float64", "float32", "bfloat16", "float16"])
def test_factory_kwargs(dtype):
    m = gemm_convt.ConvTranspose2d(4, 3, 3, device="cpu", dtype=dtype)
    assert m.weight.dtype == dtype and m.bias.dtype == dtype
    assert m.weight.device.type == "cpu"


@pytest.mark.parametrize("args", CONSTRUCTOR_ARGS)
def test_state_dict_loads_both_ways(args):
    theirs, ours = _pair_of_modules(args, seed=111)
    # Re-initialise each side differently, then load from the other module.
    torch.manual_seed(112)
    fresh_ours = gemm_convt.ConvTranspose2d(**args)
    torch.manual_seed(113)
    fresh_theirs = torch.nn.ConvTranspose2d(**args)
    assert not torch.equal(fresh_ours.weight, theirs.weight)
    assert not torch.equal(fresh_theirs.weight, ours.weight)
    assert set(ours.state_dict()) == set(theirs.state_dict())

    result = fresh_ours.load_state_dict(theirs.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    result = fresh_theirs.load_state_dict(ours.state_dict(), strict=True)
    assert not result.missing_keys and not result.unexpected_keys
    for key, value in theirs.state_dict().items():
        assert torch.equal(fresh_ours.state_dict()[key], value), key
        assert torch.equal(fresh_theirs.state_dict()[key], ours.state_dict()[key]), key


@pytest.mark.parametrize("args", CONSTRUCTOR_ARGS)
def test_forward_matches_torch_module(args, dtype, helpers):
    theirs, ours = _pair_of_modules(args, seed=121)
    ours = ours.to(dtype)
    x = helpers.randn((2, args["in_channels"], 5, 4), 122, dtype)
    with torch.no_grad():
        out = ours(x)
        ref = helpers.reference(x, ours.weight, ours.bias, **_geometry(ours))
        helpers.assert_close_to_reference(out, ref, dtype)
        if dtype == torch.float32:
            helpers.assert_close_to_reference(out, theirs(x).double(), dtype)
        unbatched = ours(x[1])
        helpers.assert_close_to_reference(unbatched, ref[1], dtype)


def test_forward_in_grad_mode_builds_a_graph():
    m = gemm_convt.ConvTranspose2d(4, 3, 3)
    x = torch.randn(1, 4, 5, 5)
    out = m(x)
    assert out.shape == (1, 3, 7, 7) and out.requires_grad and out.grad_fn is not None
    with torch.no_grad():
        assert not m(x).requires_grad
    with torch.inference_mode():
        assert torch.equal(m(x), out.detach())


def test_padding_mode_changed_after_construction_is_rejected():
    m = gemm_convt.ConvTranspose2d(4, 3, 3)
    m.padding_mode = "reflect"
    with torch.no_grad(), pytest.raises(ValueError, match="padding_mode"):
        m(torch.randn(1, 4, 5, 5))


# --- output_size ---------------------------------------------------------------

OUTPUT_SIZE_MODULE = dict(in_channels=4, out_channels=3, kernel_size=(3, 2), stride=(3, 2), padding=(1, 0),
                          dilation=(1, 2))
INPUT_HW = (4, 5)
# smallest = (in-1)*stride - 2*pad + dil*(k-1) + 1; largest = smallest + stride - 1
SMALLEST = (3 * 3 - 2 + 2 + 1, 4 * 2 - 0 + 2 + 1)  # (10, 11)
LARGEST = (SMALLEST[0] + 2, SMALLEST[1] + 1)  # (12, 12)
VALID_SIZES = [(h, w) for h in range(SMALLEST[0], LARGEST[0] + 1) for w in range(SMALLEST[1], LARGEST[1] + 1)]


def _output_size_module(seed=131):
    torch.manual_seed(seed)
    return gemm_convt.ConvTranspose2d(**OUTPUT_SIZE_MODULE)


def _expected(m, x, size, helpers):
    """Reference with the output_padding that gives `size`, on a batched input."""
    output_padding = (size[0] - SMALLEST[0], size[1] - SMALLEST[1])
    geometry = dict(_geometry(m), output_padding=output_padding)
    return helpers.reference(x, m.weight, m.bias, **geometry)


@pytest.mark.parametrize("size", VALID_SIZES, ids=lambda s: "%dx%d" % s)
def test_output_size_batched(size, helpers):
    m = _output_size_module()
    x = helpers.randn((2, 4) + INPUT_HW, 132)
    ref = _expected(m, x, size, helpers)
    assert ref.shape[-2:] == size
    torch.manual_seed(131)
    theirs = torch.nn.ConvTranspose2d(**OUTPUT_SIZE_MODULE)
    with torch.no_grad():
        for output_size in (size, list(size), (2, 3) + size, torch.Size((2, 3) + size)):
            out = m(x, output_size=output_size)
            helpers.assert_close_to_reference(out, ref, torch.float32)
        torch_out = theirs(x, output_size=size)
    helpers.assert_close_to_reference(out, torch_out.double(), torch.float32)


@pytest.mark.parametrize("size", VALID_SIZES, ids=lambda s: "%dx%d" % s)
def test_output_size_unbatched(size, helpers):
    # torch's own module gets this wrong for non-square unbatched input (pytorch#75889).
    m = _output_size_module()
    x = helpers.randn((4,) + INPUT_HW, 133)
    ref = _expected(m, x.unsqueeze(0), size, helpers).squeeze(0)
    assert ref.shape == (3,) + size
    with torch.no_grad():
        for output_size in (size, list(size), (3,) + size):
            out = m(x, output_size=output_size)
            assert out.dim() == 3
            helpers.assert_close_to_reference(out, ref, torch.float32)


@pytest.mark.parametrize("bad_size", [
    (SMALLEST[0] - 1, SMALLEST[1]),
    (SMALLEST[0], SMALLEST[1] - 1),
    (LARGEST[0] + 1, LARGEST[1]),
    (LARGEST[0], LARGEST[1] + 1),
    (1, 1),
], ids=str)
@pytest.mark.parametrize("batched", [True, False], ids=["batched", "unbatched"])
def test_output_size_out_of_range(bad_size, batched, helpers):
    m = _output_size_module()
    x = helpers.randn(((2,) if batched else ()) + (4,) + INPUT_HW, 134)
    with torch.no_grad():
        with pytest.raises(ValueError, match="output_size"):
            m(x, output_size=bad_size)
        if batched:
            with pytest.raises(ValueError):  # torch agrees that it is invalid
                torch.nn.ConvTranspose2d(**OUTPUT_SIZE_MODULE)(x, output_size=bad_size)


@pytest.mark.parametrize("bad_size", [(11,), (2, 11, 12), (1, 2, 2, 11, 12)], ids=["1", "3", "5"])
def test_output_size_wrong_length_batched(bad_size, helpers):
    m = _output_size_module()
    x = helpers.randn((2, 4) + INPUT_HW, 135)
    with torch.no_grad(), pytest.raises(ValueError, match="output_size"):
        m(x, output_size=bad_size)
    with torch.no_grad(), pytest.raises(ValueError):  # torch agrees
        torch.nn.ConvTranspose2d(**OUTPUT_SIZE_MODULE)(x, output_size=bad_size)


@pytest.mark.parametrize("bad_size", [(11,), (1, 3, 11, 12), (1, 1, 3, 11, 12)], ids=["1", "4", "5"])
def test_output_size_wrong_length_unbatched(bad_size, helpers):
    # torch: "for 3D input, output_size must have 2 or 3 elements".
    m = _output_size_module()
    x = helpers.randn((4,) + INPUT_HW, 136)
    with torch.no_grad(), pytest.raises(ValueError, match="output_size"):
        m(x, output_size=bad_size)
    with torch.no_grad(), pytest.raises(ValueError):  # torch agrees
        torch.nn.ConvTranspose2d(**OUTPUT_SIZE_MODULE)(x, output_size=bad_size)


def test_output_size_not_a_sequence(helpers):
    m = _output_size_module()
    with torch.no_grad(), pytest.raises(TypeError, match="output_size"):
        m(helpers.randn((2, 4) + INPUT_HW, 137), output_size=11)


@pytest.mark.parametrize("bad_size", [(11.5, 12), ("11", 12), (True, 12)], ids=["float", "str", "bool"])
def test_output_size_non_int_entries(bad_size, helpers):
    m = _output_size_module()
    with torch.no_grad(), pytest.raises(TypeError, match="expected output_size to contain ints"):
        m(helpers.randn((2, 4) + INPUT_HW, 138), output_size=bad_size)


def test_output_size_overrides_output_padding(helpers):
    torch.manual_seed(141)
    m = gemm_convt.ConvTranspose2d(4, 3, 3, stride=2, output_padding=1)
    x = helpers.randn((1, 4, 5, 6), 142)
    with torch.no_grad():
        assert m(x).shape[-2:] == (12, 14)
        out = m(x, output_size=(11, 13))
    helpers.assert_close_to_reference(out, helpers.reference(x, m.weight, m.bias, stride=2), torch.float32)
    assert m.output_padding == (1, 1), "forward must not change the module's attributes"
