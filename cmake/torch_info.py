"""Writes a CMake file describing the torch we build against.

We read torch's paths and flags from Python instead of find_package(Torch):
torch's CMake config drags in its own CUDA detection (nvrtc, cuDNN, ...)
that differs between 1.13 and 2.x, while these few facts are all we need.
"""
import glob
import os
import re
import shutil
import subprocess
import sys

import torch
import torch.utils.cpp_extension as cpp_ext


def cmake_list(items):
    return ";".join(str(i).replace("\\", "/") for i in items)


def nvidia_wheel_dirs(sub):
    """Include or lib dirs of the nvidia-* wheels torch's CUDA build uses."""
    dirs = []
    for site in sys.path:
        dirs += sorted(glob.glob(os.path.join(site, "nvidia", "*", sub)))
    return [d for d in dirs if os.path.isdir(d)]


def find_nvcc():
    for env in ("CUDACXX", "CUDA_HOME", "CUDA_PATH"):
        root = os.environ.get(env)
        if root:
            path = root if env == "CUDACXX" else os.path.join(root, "bin", "nvcc")
            if os.path.isfile(path):
                return path
    # /usr/local/bin/nvcc may be a wrapper script: CMake must see the real one
    # to locate the toolkit beside it.
    for path in ("/usr/local/cuda/bin/nvcc",):
        if os.path.isfile(path):
            return os.path.realpath(path)
    found = shutil.which("nvcc")
    return os.path.realpath(found) if found else ""


def nvcc_version(nvcc):
    try:
        text = subprocess.run([nvcc, "--version"], capture_output=True, text=True, check=True).stdout
    except (OSError, subprocess.CalledProcessError):
        return ""
    match = re.search(r"release (\d+\.\d+)", text)
    return match.group(1) if match else ""


def cuda_architectures():
    """TORCH_CUDA_ARCH_LIST ("8.0;9.0+PTX") in CMake's form ("80-real;90")."""
    spec = os.environ.get("TORCH_CUDA_ARCH_LIST", "8.0;9.0+PTX")
    archs = []
    for item in spec.replace(" ", ";").split(";"):
        if not item:
            continue
        ptx = item.endswith("+PTX")
        num = item.replace("+PTX", "").replace(".", "")
        archs.append(num if ptx else num + "-real")
    return archs


def find_library(name, lib_dirs):
    for d in lib_dirs:
        hits = sorted(glob.glob(os.path.join(d, name + "*")))
        if hits:
            return hits[0]
    return ""


def main(out_path):
    version = torch.__version__.split("+")[0]
    major, minor = (int(x) for x in version.split(".")[:2])
    defines = ["_GLIBCXX_USE_CXX11_ABI=%d" % int(torch._C._GLIBCXX_USE_CXX11_ABI)]
    # torch 1.x compiles pybind11 with an ABI tag of its own; match it so
    # our module shares pybind11's internals with torch's.
    for name in ("COMPILER_TYPE", "STDLIB", "BUILD_ABI"):
        value = getattr(torch._C, "_PYBIND11_" + name, None)
        if value is not None:
            defines.append('PYBIND11_%s="%s"' % (name, value))
    cuda_includes = nvidia_wheel_dirs("include")
    cuda_lib_dirs = nvidia_wheel_dirs("lib")
    nvcc = find_nvcc()
    toolkit_lib = os.path.join(os.path.dirname(os.path.dirname(nvcc or "/x/x")), "lib64")
    values = {
        "TORCH_VERSION": torch.__version__,
        "TORCH_INCLUDE_DIRS": cmake_list(cpp_ext.include_paths()),
        "TORCH_LIBRARY_DIR": cmake_list(cpp_ext.library_paths()),
        "TORCH_DEFINES": cmake_list(defines),
        "TORCH_CXX_STANDARD": "17" if major < 2 else "20",
        "TORCH_CUDA_VERSION": torch.version.cuda or "",
        "TORCH_NVCC": nvcc,
        # CUDA code must be compiled by a toolkit of torch's CUDA major version.
        "TORCH_NVCC_VERSION": nvcc_version(nvcc) if nvcc else "",
        "TORCH_CUDA_ARCHS": cmake_list(cuda_architectures()),
        "TORCH_CUDA_WHEEL_INCLUDES": cmake_list(cuda_includes),
        "TORCH_CUBLAS_LIBRARY": find_library("libcublas.so", cuda_lib_dirs + [toolkit_lib]),
        "TORCH_CUBLASLT_LIBRARY": find_library("libcublasLt.so", cuda_lib_dirs + [toolkit_lib]),
    }
    with open(out_path, "w") as f:
        for key, value in values.items():
            f.write('set(%s "%s")\n' % (key, value.replace('"', '\\"')))


if __name__ == "__main__":
    main(sys.argv[1])
