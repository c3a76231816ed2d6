"""Exception classes for invalid arguments.

torch raises RuntimeError for invalid convolution arguments, so code written
against torch (``except RuntimeError``, PyTorch's own test suite) must catch
ours too when gemm_convt stands in; Python code expects ValueError/TypeError.
Each class is both, through a common base:

    ArgumentError(RuntimeError)
    ├── ArgumentValueError(ArgumentError, ValueError)   wrong value, shape, device
    └── ArgumentTypeError(ArgumentError, TypeError)     wrong type or dtype

Every argument error raised by gemm_convt's Python layer is one of the two
leaves, so ``except RuntimeError``, ``except ValueError`` / ``except TypeError``
and ``except gemm_convt.ArgumentError`` all work.
"""


class ArgumentError(RuntimeError):
    """An invalid argument to a gemm_convt function, module or setting."""


class ArgumentValueError(ArgumentError, ValueError):
    """An argument of the right type with an invalid value (shape, range, device)."""


class ArgumentTypeError(ArgumentError, TypeError):
    """An argument of the wrong type (or dtype)."""
