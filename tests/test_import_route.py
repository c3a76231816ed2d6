"""The extension is imported the standard way (installed or editable package),
and a copy of the sources without a built _C fails with a message that says
what to do instead of silently loading some other copy."""
import os
import pathlib
import shutil
import subprocess
import sys
import textwrap

import pytest

import gemm_convt
from gemm_convt import _native


def test_extension_is_the_package_submodule():
    assert sys.modules["gemm_convt._C"] is _native._C
    assert _native._C.__name__ == "gemm_convt._C"
    # Installed: beside the package's files; editable: in site-packages' copy of the
    # package, which scikit-build-core's hook serves. Either way a "gemm_convt" folder.
    assert pathlib.Path(_native._C.__file__).parent.name == "gemm_convt"


def test_installed_distribution_matches():
    metadata = pytest.importorskip("importlib.metadata")
    assert metadata.version("gemm_convt") == gemm_convt.__version__


def _copy_package(tmp_path, name):
    """The package's Python files under another name, in a fake checkout."""
    checkout = tmp_path / "checkout"
    package = checkout / name
    package.mkdir(parents=True)
    for source in pathlib.Path(gemm_convt.__file__).parent.glob("*.py"):
        shutil.copy(str(source), str(package / source.name))
    return checkout, package


def _import(checkout, name):
    script = textwrap.dedent("""
        import sys
        sys.path.insert(0, {checkout!r})
        try:
            import {name}
        except ImportError as exc:
            print("ImportError:", exc)
            sys.exit(0)
        sys.exit("imported without a _C")
    """).format(checkout=str(checkout), name=name)
    proc = subprocess.run([sys.executable, "-c", script], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                          cwd=str(checkout), timeout=120, env=dict(os.environ, PYTHONDONTWRITEBYTECODE="1"))
    output = proc.stdout.decode(errors="replace")
    assert proc.returncode == 0, output
    return output


def test_source_checkout_without_extension_says_what_to_do(tmp_path):
    checkout, _ = _copy_package(tmp_path, "gemm_convt_copy")
    (checkout / "pyproject.toml").write_text("[project]\nname = 'x'\n")
    output = _import(checkout, "gemm_convt_copy")
    assert "imported from the source checkout" in output, output
    assert "pip install --no-build-isolation -e ." in output, output


def test_broken_extension_says_rebuild(tmp_path):
    checkout, package = _copy_package(tmp_path, "gemm_convt_copy")
    (package / pathlib.Path(_native._C.__file__).name).write_bytes(b"not a shared object")
    output = _import(checkout, "gemm_convt_copy")
    assert "failed to load" in output and "rebuild" in output, output


def test_no_extension_outside_a_checkout(tmp_path):
    checkout, _ = _copy_package(tmp_path, "gemm_convt_copy")
    output = _import(checkout, "gemm_convt_copy")
    assert "_C is missing" in output and "pip install --no-build-isolation ." in output, output
