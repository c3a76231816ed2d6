"""Loads the compiled module gemm_convt._C.

Run from a source checkout (``python -m gemm_convt.bench`` in the repository
root), Python imports this package from the source tree, which has no _C; the
installed copy's _C is then loaded from site-packages instead.
"""
import glob
import importlib.machinery
import importlib.util
import os
import sys

import torch  # noqa: F401  (loads libtorch before our extension links to it)


def _installed_extension():
    here = os.path.dirname(os.path.abspath(__file__))
    for entry in sys.path:
        pkg = os.path.join(os.path.abspath(entry or os.getcwd()), "gemm_convt")
        if pkg == here:
            continue
        for suffix in importlib.machinery.EXTENSION_SUFFIXES:
            hits = glob.glob(os.path.join(pkg, "_C" + suffix))
            if hits:
                return hits[0]
    return None


try:
    from . import _C
except ImportError as exc:
    path = _installed_extension()
    if path is None:
        raise ImportError(
            "gemm_convt's native module _C is missing or failed to load (%s). Install the package with "
            "`pip install --no-build-isolation .` against the torch you run." % exc
        ) from exc
    spec = importlib.util.spec_from_file_location(__package__ + "._C", path)
    _C = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(_C)
    sys.modules[spec.name] = _C

__all__ = ["_C"]
