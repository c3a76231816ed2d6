"""gemm_convt.convert: swapping torch's ConvTranspose2d layers in a model."""
import warnings

import pytest
import torch
from torch import nn

import gemm_convt


class Decoder(nn.Module):
    def __init__(self, shared):
        super().__init__()
        self.up = nn.ConvTranspose2d(8, 6, 3, stride=2, padding=1, output_padding=1)
        self.body = nn.Sequential(
            nn.ReLU(),
            nn.ConvTranspose2d(6, 4, (3, 2), stride=(1, 2), padding=(1, 0), groups=2, dilation=(1, 1)),
            nn.ReLU(),
        )
        self.shared = shared  # also registered on the parent model

    def forward(self, x):
        x = self.body(self.up(x))
        x = self.shared(x)
        return self.shared(torch.relu(x))  # the same layer used twice


class EncoderDecoder(nn.Module):
    def __init__(self):
        super().__init__()
        shared = nn.ConvTranspose2d(4, 4, 3, padding=1)
        self.encoder = nn.Sequential(nn.Conv2d(3, 8, 3, stride=2, padding=1), nn.ReLU())
        self.decoder = Decoder(shared)
        self.refine = shared
        self.head = nn.ModuleList([nn.ConvTranspose2d(4, 3, 1, bias=False)])

    def forward(self, x):
        return self.head[0](self.decoder(self.encoder(x)))


def _model(seed=201, dtype=torch.float32):
    torch.manual_seed(seed)
    return EncoderDecoder().to(dtype)


def _conv_transpose_paths(model):
    return sorted(name for name, m in model.named_modules() if isinstance(m, nn.ConvTranspose2d))


def _input(dtype=torch.float32):
    return torch.randn(2, 3, 8, 10, generator=torch.Generator().manual_seed(202), dtype=torch.float64).to(dtype)


@pytest.mark.parametrize("dtype", [torch.float64, torch.float32], ids=["float64", "float32"])
def test_same_outputs_after_conversion(dtype, helpers):
    model = _model(dtype=dtype)
    x = _input(dtype)
    with torch.no_grad():
        before = model(x)
    converted = gemm_convt.convert(model)
    assert converted is model
    for name, m in model.named_modules():
        if isinstance(m, nn.ConvTranspose2d):
            assert type(m) is gemm_convt.ConvTranspose2d, name
    with torch.no_grad():
        after = model(x)
    helpers.assert_close_to_reference(after, before.double(), dtype)
    assert torch.isfinite(after).all() and after.abs().max() > 0


def test_every_layer_swapped_and_others_untouched():
    model = _model()
    old = dict(model.named_modules())
    paths = _conv_transpose_paths(model)
    assert paths == ["decoder.body.1", "decoder.shared", "decoder.up", "head.0"]  # refine is deduplicated
    gemm_convt.convert(model)
    new = dict(model.named_modules())
    assert _conv_transpose_paths(model) == paths
    assert set(new) == set(old)
    for name, m in new.items():
        if name in paths:
            assert type(m) is gemm_convt.ConvTranspose2d, name
            assert m is not old[name], name
        else:
            assert m is old[name], name  # containers, Conv2d, ReLU: the same objects
    assert type(model.encoder[0]) is nn.Conv2d
    # The shared layer is still one module, reachable from both parents.
    assert model.refine is model.decoder.shared
    assert type(model.refine) is gemm_convt.ConvTranspose2d


def test_parameters_are_the_same_objects():
    model = _model()
    params = dict(model.named_parameters())
    layer_weights = {name: (m.weight, m.bias) for name, m in model.named_modules()
                     if isinstance(m, nn.ConvTranspose2d)}
    state_keys = list(model.state_dict())
    gemm_convt.convert(model)
    after = dict(model.named_parameters())
    assert list(after) == list(params)
    for name, p in after.items():
        assert p is params[name], name
    for name, m in model.named_modules():
        if name in layer_weights:
            assert m.weight is layer_weights[name][0], name
            assert m.bias is layer_weights[name][1], name
    assert list(model.state_dict()) == state_keys
    # Shared storage: an in-place update of the model is seen by the layer.
    with torch.no_grad():
        params["head.0.weight"].mul_(2)
    assert torch.equal(model.head[0].weight, params["head.0.weight"])


def test_hooks_are_kept_and_fire():
    model = _model()
    calls = []
    model.decoder.shared.register_forward_hook(lambda m, inp, out: calls.append(("shared", type(m))))
    model.decoder.up.register_forward_pre_hook(lambda m, inp: calls.append(("up-pre", type(m))))
    handle = model.head[0].register_forward_hook(lambda m, inp, out: calls.append(("head", type(m))))
    gemm_convt.convert(model)
    with torch.no_grad():
        model(_input())
    assert calls == [("up-pre", gemm_convt.ConvTranspose2d)] + [("shared", gemm_convt.ConvTranspose2d)] * 2 \
        + [("head", gemm_convt.ConvTranspose2d)]
    # Handles taken before conversion still remove the hook from the new module.
    handle.remove()
    del calls[:]
    with torch.no_grad():
        model(_input())
    assert ("head", gemm_convt.ConvTranspose2d) not in calls and len(calls) == 3


def test_hook_can_change_output():
    model = _model()
    model.head[0].register_forward_hook(lambda m, inp, out: out * 0 + 7)
    gemm_convt.convert(model)
    with torch.no_grad():
        assert torch.equal(model(_input()), torch.full_like(model(_input()), 7))


@pytest.mark.parametrize("mode", ["train", "eval", "mixed"])
def test_training_mode_kept(mode):
    model = _model()
    if mode == "eval":
        model.eval()
    elif mode == "mixed":
        model.train()
        model.decoder.up.eval()
    expected = {name: m.training for name, m in model.named_modules()}
    gemm_convt.convert(model)
    assert {name: m.training for name, m in model.named_modules()} == expected
    assert model.decoder.up.training == (mode == "train")


@pytest.mark.parametrize("dtype", [torch.float64, torch.bfloat16], ids=["float64", "bfloat16"])
def test_dtype_and_device_kept(dtype):
    model = _model(dtype=dtype)
    gemm_convt.convert(model)
    for name, p in model.named_parameters():
        assert p.dtype == dtype and p.device.type == "cpu", name


def test_other_padding_mode_left_alone_with_warning(helpers):
    model = _model()
    # torch's constructor only accepts 'zeros' ...
    with pytest.raises(ValueError):
        nn.ConvTranspose2d(4, 4, 3, padding_mode="reflect")
    # ... so set it afterwards, as a state_dict/pickle of a custom build could.
    odd = model.decoder.up
    odd.padding_mode = "reflect"
    with pytest.warns(UserWarning, match="padding_mode"):
        gemm_convt.convert(model)
    assert model.decoder.up is odd and type(odd) is nn.ConvTranspose2d
    assert type(model.head[0]) is gemm_convt.ConvTranspose2d  # the others are still converted


def test_subclass_left_alone_with_warning():
    class Custom(nn.ConvTranspose2d):
        def forward(self, input, output_size=None):
            return super().forward(input, output_size) + 1

    model = nn.Sequential(Custom(4, 3, 3), nn.ConvTranspose2d(3, 2, 3))
    custom = model[0]
    with pytest.warns(UserWarning, match="Custom"):
        gemm_convt.convert(model)
    assert model[0] is custom and type(model[0]) is Custom
    assert type(model[1]) is gemm_convt.ConvTranspose2d


def test_root_conv_transpose(helpers):
    torch.manual_seed(211)
    layer = nn.ConvTranspose2d(4, 3, (3, 2), stride=2, output_padding=1)
    x = helpers.randn((2, 4, 5, 6), 212)
    layer.register_forward_hook(lambda m, inp, out: None)
    with torch.no_grad():
        before = layer(x)
    new = gemm_convt.convert(layer)
    assert type(new) is gemm_convt.ConvTranspose2d and new is not layer
    assert new.weight is layer.weight and new.bias is layer.bias
    assert len(new._forward_hooks) == 1
    with torch.no_grad():
        helpers.assert_close_to_reference(new(x), before.double(), torch.float32)


def test_already_converted_is_a_no_op():
    model = gemm_convt.convert(_model())
    layers = dict(model.named_modules())
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert gemm_convt.convert(model) is model
        root = gemm_convt.ConvTranspose2d(4, 3, 3)
        assert gemm_convt.convert(root) is root
    assert dict(model.named_modules()) == layers


def test_model_without_conv_transpose_unchanged():
    model = nn.Sequential(nn.Conv2d(3, 4, 3), nn.ReLU())
    children = list(model)
    assert gemm_convt.convert(model) is model
    assert list(model) == children


@pytest.mark.parametrize("not_a_module", [None, 3, "model", [nn.ConvTranspose2d(2, 2, 1)]],
                         ids=["None", "int", "str", "list"])
def test_non_module_raises(not_a_module):
    with pytest.raises(TypeError, match="Module"):
        gemm_convt.convert(not_a_module)
