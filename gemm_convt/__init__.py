"""gemm_convt: nn.ConvTranspose2d as a GEMM plus a custom col2im kernel.

    import gemm_convt
    y = gemm_convt.conv_transpose2d(x, w, b, stride=2, padding=1)
    model = gemm_convt.convert(model)   # swap every nn.ConvTranspose2d
"""

__version__ = "0.1.0"

from ._settings import (
    get_allow_tf32,
    get_direct_gather,
    get_disjoint_taps,
    get_float_columns,
    get_fp32_split,
    get_gemm_graphs,
    get_implicit_gemm,
    get_width_folding,
    get_workspace_limit,
    release_gemm_graphs,
    set_allow_tf32,
    set_direct_gather,
    set_disjoint_taps,
    set_float_columns,
    set_fp32_split,
    set_gemm_graphs,
    set_implicit_gemm,
    set_width_folding,
    set_workspace_limit,
)
from . import _fake  # noqa: F401  (fake kernels for torch.compile / torch.export)
from .convert import convert
from .errors import ArgumentError, ArgumentTypeError, ArgumentValueError
from .functional import build_info, conv_transpose2d
from .modules import ConvTranspose2d

__all__ = [
    "ArgumentError",
    "ArgumentTypeError",
    "ArgumentValueError",
    "ConvTranspose2d",
    "build_info",
    "conv_transpose2d",
    "convert",
    "get_allow_tf32",
    "get_direct_gather",
    "get_disjoint_taps",
    "get_float_columns",
    "get_fp32_split",
    "get_gemm_graphs",
    "get_implicit_gemm",
    "get_width_folding",
    "get_workspace_limit",
    "release_gemm_graphs",
    "set_allow_tf32",
    "set_direct_gather",
    "set_disjoint_taps",
    "set_float_columns",
    "set_fp32_split",
    "set_gemm_graphs",
    "set_implicit_gemm",
    "set_width_folding",
    "set_workspace_limit",
]
