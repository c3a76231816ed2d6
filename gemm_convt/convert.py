"""Swap torch's ConvTranspose2d layers for gemm_convt's, in place."""
import warnings

import torch

from .errors import ArgumentTypeError
from .modules import ConvTranspose2d


def _swap(module):
    """A gemm_convt module sharing every attribute (parameters, buffers, hooks,
    training flag) with `module`: the same objects, not copies."""
    new = ConvTranspose2d.__new__(ConvTranspose2d)
    new.__dict__.update(module.__dict__)
    return new


def convert(model):
    """Replace every ``torch.nn.ConvTranspose2d`` (padding_mode 'zeros') in
    `model`, at any depth, by ``gemm_convt.ConvTranspose2d``.

    The new modules share the original parameter tensors (no copy) and keep
    device, dtype, training mode and hooks. Layers with another padding_mode,
    and subclasses of nn.ConvTranspose2d (whose forward may differ), are left
    alone with a warning. Returns the model (a new module if `model` itself is
    a ConvTranspose2d).
    """
    if not isinstance(model, torch.nn.Module):
        raise ArgumentTypeError("convert: expected a torch.nn.Module, but got %s" % type(model).__name__)
    swapped = {}  # id(old) -> new, so a layer shared by several parents stays shared

    def replacement(module):
        if type(module) is not torch.nn.ConvTranspose2d:
            if isinstance(module, torch.nn.ConvTranspose2d) and not isinstance(module, ConvTranspose2d):
                warnings.warn("gemm_convt.convert: left %s alone (a subclass of nn.ConvTranspose2d)"
                              % type(module).__name__)
            return None
        if module.padding_mode != "zeros":
            warnings.warn("gemm_convt.convert: left a ConvTranspose2d with padding_mode=%r alone "
                          "(only 'zeros' is supported)" % (module.padding_mode,))
            return None
        if id(module) not in swapped:
            swapped[id(module)] = _swap(module)
        return swapped[id(module)]

    root = replacement(model)
    if root is not None:
        return root
    for parent in model.modules():
        for name, child in list(parent._modules.items()):
            if child is not None:
                new = replacement(child)
                if new is not None:
                    parent._modules[name] = new
    return model
