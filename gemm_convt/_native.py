"""Loads the compiled module gemm_convt._C with a helpful error if missing."""
import torch  # noqa: F401  (loads libtorch before our extension links to it)

try:
    from . import _C
except ImportError as exc:  # pragma: no cover - depends on the install
    raise ImportError(
        "gemm_convt's native module _C is missing or failed to load (%s). Install the "
        "package with `pip install --no-build-isolation .` against the torch you run, and "
        "do not import it from the source tree's parent directory." % exc
    ) from exc

__all__ = ["_C"]
