"""Imports the compiled module gemm_convt._C, the standard way only.

`pip install --no-build-isolation .` puts _C inside the installed package;
`pip install --no-build-isolation -e .` (what the README uses, so commands work
from the repository root) keeps the Python files in this source tree and lets
scikit-build-core's import hook serve _C beside them. There is no search for
another copy: a failure says which of the two routes was missed.
"""
import glob
import os

import torch  # noqa: F401  (loads libtorch before our extension links to it)

_HERE = os.path.dirname(os.path.abspath(__file__))


def _explain(exc):
    checkout = os.path.dirname(_HERE)
    if glob.glob(os.path.join(_HERE, "_C.*")):
        return ("gemm_convt's native module _C in %s failed to load (%s). It was probably built against "
                "another torch than the one running (%s): rebuild it with `pip install --no-build-isolation .`"
                % (_HERE, exc, torch.__version__))
    if os.path.exists(os.path.join(checkout, "pyproject.toml")):
        return ("gemm_convt was imported from the source checkout %s, which has no compiled _C (%s). Install "
                "it in editable mode from there (`pip install --no-build-isolation -e .`), or run from "
                "outside the checkout so that Python imports the installed package." % (checkout, exc))
    return ("gemm_convt's native module _C is missing (%s). Install the package with "
            "`pip install --no-build-isolation .` against the torch you run (%s)." % (exc, torch.__version__))


try:
    from . import _C
except ImportError as exc:
    raise ImportError(_explain(exc)) from exc

__all__ = ["_C"]
