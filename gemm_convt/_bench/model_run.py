"""Whole-model benchmark (`--model dcgan|unet`): the original model with torch's
ConvTranspose2d against a gemm_convt.convert-ed copy with the same weights;
forward (inference) or one full training step (forward, MSE loss, backward,
SGD step)."""
import copy

import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt import models

from .run import make_row, relative_error
from .timing import extra_device_bytes, median_ms
from .variants import applied, variants

# name: (factory(size, width) -> model, input shape(batch, size), CUDA defaults, CPU defaults)
# defaults: (batch, size, width); size is dcgan's image size, the U-Net's input size.
MODELS = {
    "dcgan": (lambda size, width: models.dcgan_generator(latent=100, width=width, image_size=size),
              lambda batch, size: (batch, 100, 1, 1), (128, 64, 64), (4, 32, 16)),
    "unet": (lambda size, width: models.unet(in_channels=3, out_channels=2, width=width, depth=3),
             lambda batch, size: (batch, 3, size, size), (8, 256, 32), (2, 64, 8)),
}


def model_settings(name, device, batch=None, size=None, width=None):
    defaults = MODELS[name][2 if device.type == "cuda" else 3]
    return tuple(v if v is not None else d for v, d in zip((batch, size, width), defaults))


def _loss_and_step(model, x, target, optimizer):
    optimizer.zero_grad()
    loss = F.mse_loss(model(x), target)
    loss.backward()
    optimizer.step()
    return loss.detach()


def _grads(model, x, target):
    model.zero_grad()
    F.mse_loss(model(x), target).backward()
    return [p.grad.detach().clone() for p in model.parameters()]


def run_model(name, dtype, device, mode, warmup, iters, batch=None, size=None, width=None, progress=None):
    batch, size, width = model_settings(name, device, batch, size, width)
    factory, input_shape, _, _ = MODELS[name]
    torch.manual_seed(0)
    original = factory(size, width)
    gen = torch.Generator(device="cpu").manual_seed(0)
    x = torch.randn(*input_shape(batch, size), generator=gen)
    with torch.no_grad():
        out_shape = original.eval()(x[:1]).shape[1:]  # eval: batch norm can't train on one value
    target = torch.randn(batch, *out_shape, generator=gen)
    label = "%s-%s" % (name, mode)
    info = dict(kind="model", description="%s: batch %d, size %d, width %d; %s" % (
        name, batch, size, width, "one training step (forward, MSE, backward, SGD)" if mode == "train"
        else "forward (inference)"), flops=None, spec=dict(model=name, batch=batch, size=size, width=width))
    # Reference: the original in float64 on the same device and values.
    ref_model = copy.deepcopy(original).to(device, torch.float64).train(mode == "train")
    x64, t64 = x.to(device, torch.float64), target.to(device, torch.float64)
    if mode == "train":
        reference = _grads(ref_model, x64, t64)
    else:
        with torch.no_grad():
            reference = [ref_model(x64)]
    del ref_model
    xd, td = x.to(device, dtype), target.to(device, dtype)
    rows = []
    for variant in variants(device, dtype):
        if progress:
            progress.step("%s %s: %s" % (label, str(dtype).replace("torch.", ""), variant.label))
        model = copy.deepcopy(original).to(device, dtype).train(mode == "train")
        if variant.ours:
            model = gemm_convt.convert(model)
        try:
            with applied(**variant.settings):
                if mode == "train":
                    err = relative_error(_grads(model, xd, td), reference, combined=True)
                    optimizer = torch.optim.SGD(model.parameters(), lr=1e-4)
                    call = lambda: _loss_and_step(model, xd, td, optimizer)  # noqa: E731
                else:
                    with torch.no_grad():
                        err = relative_error([model(xd)], reference)

                    def call():
                        with torch.no_grad():
                            return model(xd)
                ms = median_ms(call, device, warmup, iters, [()])
                extra = extra_device_bytes(call, device, ())
            rows.append(make_row(label, dtype, mode, variant, ms, extra, err, info, None))
        except RuntimeError as exc:
            rows.append(make_row(label, dtype, mode, variant, None, None, None, info, None,
                                 error=str(exc).splitlines()[0][:200]))
        del model
    return label, info, rows
