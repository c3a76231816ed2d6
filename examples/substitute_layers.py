"""Layer substitution: swap every nn.ConvTranspose2d of an existing model for
gemm_convt's, then check that nothing else changed.

    python examples/substitute_layers.py                  # a small U-Net, CUDA if available
    python examples/substitute_layers.py --device cpu --size 64

gemm_convt.convert(model) replaces the layers in place; the new layers share
the original parameter tensors, so optimizers, checkpoints and hooks keep
working. Here a copy of the model stays unconverted to compare against.
"""
import argparse
import copy

import torch
import torch.nn.functional as F

import gemm_convt
from gemm_convt import models


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--device", default="cuda" if torch.cuda.is_available() else "cpu")
    parser.add_argument("--batch", type=int, default=4)
    parser.add_argument("--size", type=int, default=128, help="input height and width (a multiple of 8)")
    parser.add_argument("--steps", type=int, default=3, help="training steps to compare")
    args = parser.parse_args(argv)
    device = torch.device(args.device)
    # Strict fp32 on both sides, so the comparison shows only the op's own rounding.
    torch.backends.cudnn.allow_tf32 = False
    gemm_convt.set_allow_tf32(False)

    torch.manual_seed(0)
    model = models.unet(in_channels=3, out_channels=2, width=16, depth=3).to(device)
    original = copy.deepcopy(model)

    gemm_convt.convert(model)                       # <- the substitution
    swapped = [name for name, m in model.named_modules() if isinstance(m, gemm_convt.ConvTranspose2d)]
    print("swapped %d layers: %s" % (len(swapped), ", ".join(swapped)))
    assert model.state_dict().keys() == original.state_dict().keys()  # checkpoints load either way

    x = torch.randn(args.batch, 3, args.size, args.size, device=device)
    target = torch.randn(args.batch, 2, args.size, args.size, device=device)
    with torch.no_grad():
        a, b = original.eval()(x), model.eval()(x)
    print("inference: max |converted - original| = %.2e (output scale %.2f)" % ((a - b).abs().max(), a.abs().max()))

    # Training: the same steps on both models, same data.
    original.train(), model.train()
    optimizers = [torch.optim.SGD(m.parameters(), lr=0.01, momentum=0.9) for m in (original, model)]
    for step in range(args.steps):
        losses = []
        for m, opt in zip((original, model), optimizers):
            opt.zero_grad()
            loss = F.mse_loss(m(x), target)
            loss.backward()
            opt.step()
            losses.append(loss.item())
        print("step %d: loss original %.6f, converted %.6f" % (step, losses[0], losses[1]))
    drift = max((p - q).abs().max().item() for p, q in zip(original.parameters(), model.parameters()))
    print("after %d steps: max parameter difference %.2e" % (args.steps, drift))
    ok = torch.allclose(a, b, rtol=1e-4, atol=1e-5) and drift < 1e-4
    print("converted model matches the original: %s" % ok)
    return 0 if ok else 1


if __name__ == "__main__":
    raise SystemExit(main())
