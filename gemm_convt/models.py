"""Small reference models built on torch.nn.ConvTranspose2d.

Used by the training tests (original vs ``gemm_convt.convert``-ed), the
benchmark's ``--model`` mode and the multi-GPU test, so every user of them
runs the same architecture. They are plain torch modules: convert them to
use gemm_convt.
"""
import torch
from torch import nn

from .errors import ArgumentValueError


def dcgan_generator(latent=100, width=64, channels=3, image_size=64):
    """DCGAN generator (Radford et al.): a (N, latent, 1, 1) noise tensor to a
    (N, channels, image_size, image_size) image in [-1, 1].

    A 4x4 projection, then stride-2 4x4 ConvTranspose2d layers (padding 1)
    that double the size while halving the width, each followed by
    BatchNorm + ReLU; the last one outputs `channels` through tanh.
    image_size must be 4 * 2**k with k >= 1 (64 gives the paper's model).
    """
    ups = 0
    size = image_size
    while size > 4 and size % 2 == 0:
        size //= 2
        ups += 1
    if size != 4 or ups < 1:
        raise ArgumentValueError(
            "dcgan_generator: expected image_size = 4 * 2**k with k >= 1, but got %r" % (image_size,)
        )
    mult = 2 ** (ups - 1)
    layers = [nn.ConvTranspose2d(latent, width * mult, 4, 1, 0, bias=False),
              nn.BatchNorm2d(width * mult), nn.ReLU(True)]
    for _ in range(ups - 1):
        layers += [nn.ConvTranspose2d(width * mult, width * mult // 2, 4, 2, 1, bias=False),
                   nn.BatchNorm2d(width * mult // 2), nn.ReLU(True)]
        mult //= 2
    layers += [nn.ConvTranspose2d(width, channels, 4, 2, 1, bias=False), nn.Tanh()]
    return nn.Sequential(*layers)


def _double_conv(cin, cout):
    return nn.Sequential(
        nn.Conv2d(cin, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(True),
        nn.Conv2d(cout, cout, 3, padding=1), nn.BatchNorm2d(cout), nn.ReLU(True),
    )


class UNet(nn.Module):
    """A small U-Net (Ronneberger et al.): `depth` stride-2 max-pool downsamplings
    with double 3x3 convolutions, and a decoder of stride-2 2x2 ConvTranspose2d
    upsamplings concatenated with the skip connection. Input height and width
    must be divisible by 2**depth."""

    def __init__(self, in_channels=3, out_channels=2, width=16, depth=3):
        super().__init__()
        if depth < 1:
            raise ArgumentValueError("UNet: expected depth >= 1, but got %r" % (depth,))
        self.depth = depth
        widths = [width * 2 ** i for i in range(depth + 1)]
        self.down = nn.ModuleList([_double_conv(in_channels, widths[0])] +
                                  [_double_conv(widths[i], widths[i + 1]) for i in range(depth)])
        self.up = nn.ModuleList([nn.ConvTranspose2d(widths[i + 1], widths[i], 2, stride=2)
                                 for i in reversed(range(depth))])
        self.decode = nn.ModuleList([_double_conv(2 * widths[i], widths[i]) for i in reversed(range(depth))])
        self.head = nn.Conv2d(widths[0], out_channels, 1)

    def forward(self, x):
        skips = []
        for i, block in enumerate(self.down):
            if i > 0:
                x = nn.functional.max_pool2d(x, 2)
            x = block(x)
            skips.append(x)
        skips.pop()
        for up, block in zip(self.up, self.decode):
            x = block(torch.cat([skips.pop(), up(x)], dim=1))
        return self.head(x)


def unet(in_channels=3, out_channels=2, width=16, depth=3):
    """A small U-Net; see UNet."""
    return UNet(in_channels, out_channels, width, depth)
