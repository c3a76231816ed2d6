"""gemm_convt.build_info(): how the installed extension was built."""
import re

import torch

import gemm_convt

KEYS = {"version", "torch", "cuda", "cuda_version", "cuda_architectures"}


def _base_version(version):
    """'2.14.1+cu130' -> (2, 14, 1); '1.13.1' -> (1, 13, 1)."""
    match = re.match(r"(\d+)\.(\d+)\.(\d+)", str(version))
    assert match, version
    return tuple(int(g) for g in match.groups())


def test_keys_and_types():
    info = gemm_convt.build_info()
    assert isinstance(info, dict)
    assert set(info) == KEYS
    assert isinstance(info["version"], str)
    assert isinstance(info["torch"], str)
    assert isinstance(info["cuda"], bool)
    if info["cuda"]:
        assert isinstance(info["cuda_version"], str) and re.match(r"\d+\.\d+", info["cuda_version"])
        assert isinstance(info["cuda_architectures"], str) and info["cuda_architectures"]
        assert re.match(r"^\d+[a-z]?(-(real|virtual))?(,\d+[a-z]?(-(real|virtual))?)*$",
                        info["cuda_architectures"]), info["cuda_architectures"]
    else:
        assert info["cuda_version"] is None
        assert info["cuda_architectures"] is None


def test_version_matches_package():
    info = gemm_convt.build_info()
    assert info["version"] == gemm_convt.__version__
    assert re.match(r"^\d+\.\d+\.\d+", gemm_convt.__version__)


def test_built_against_the_running_torch():
    info = gemm_convt.build_info()
    assert _base_version(info["torch"]) == _base_version(torch.__version__), (info["torch"], torch.__version__)


def test_cuda_only_with_a_cuda_torch():
    info = gemm_convt.build_info()
    if torch.version.cuda is None:
        assert info["cuda"] is False
    if info["cuda"]:
        # The CUDA kernels were compiled with a toolkit of torch's major version.
        assert info["cuda_version"].split(".")[0] == torch.version.cuda.split(".")[0]


def test_returns_a_fresh_dict():
    info = gemm_convt.build_info()
    info["version"] = "changed"
    assert gemm_convt.build_info()["version"] == gemm_convt.__version__


def test_public_api():
    for name in gemm_convt.__all__:
        assert hasattr(gemm_convt, name), name
    assert set(gemm_convt.__all__) == {
        "ArgumentError", "ArgumentTypeError", "ArgumentValueError", "ConvTranspose2d", "build_info",
        "conv_transpose2d", "convert", "get_allow_tf32", "get_direct_gather", "get_disjoint_taps", "get_float_columns", "get_fp32_split", "get_gemm_graphs", "get_implicit_gemm", "get_width_folding",
        "get_workspace_limit", "release_gemm_graphs", "set_allow_tf32", "set_direct_gather", "set_disjoint_taps", "set_float_columns", "set_fp32_split", "set_gemm_graphs", "set_implicit_gemm", "set_width_folding",
        "set_workspace_limit",
    }
