// The private module gemm_convt._C: build information and the process-wide
// settings. Importing it also registers the operators (register.cpp); the
// Python wrapper calls them as torch.ops.gemm_convt.*.

#include <torch/extension.h>

#include "settings.h"

namespace {

py::dict build_info() {
  py::dict info;
  info["version"] = GEMM_CONVT_VERSION;
  info["torch"] = GEMM_CONVT_TORCH_VERSION;
#ifdef GEMM_CONVT_WITH_CUDA
  info["cuda"] = true;
  info["cuda_version"] = GEMM_CONVT_CUDA_VERSION;
  info["cuda_architectures"] = GEMM_CONVT_CUDA_ARCHS;
#else
  info["cuda"] = false;
  info["cuda_version"] = py::none();
  info["cuda_architectures"] = py::none();
#endif
  return info;
}

}  // namespace

PYBIND11_MODULE(_C, m) {
  m.doc() = "gemm_convt native kernels (private; use the gemm_convt package)";
  m.def("set_workspace_limit", &gemm_convt::set_workspace_limit, py::arg("num_bytes"));
  m.def("get_workspace_limit", &gemm_convt::workspace_limit);
  m.def("set_allow_tf32", &gemm_convt::set_allow_tf32, py::arg("allow"));
  m.def("get_allow_tf32", &gemm_convt::allow_tf32,
        "The TF32 decision the next float32 CUDA call uses (True only when set so)");
  m.def("torch_conv_allows_tf32", &gemm_convt::torch_conv_allows_tf32,
        "torch's TF32 policy for cuDNN convolutions, as read by the operator");
  m.def("set_fp32_split", &gemm_convt::set_fp32_split, py::arg("enabled"));
  m.def("get_fp32_split", &gemm_convt::fp32_split);
  m.def("set_float_columns", &gemm_convt::set_float_columns, py::arg("enabled"));
  m.def("get_float_columns", &gemm_convt::float_columns);
  m.def("set_width_folding", &gemm_convt::set_width_folding, py::arg("mode"));
  m.def("get_width_folding", &gemm_convt::width_folding);
  m.def("set_disjoint_taps", &gemm_convt::set_disjoint_taps, py::arg("mode"));
  m.def("get_disjoint_taps", &gemm_convt::disjoint_taps);
  m.def("set_direct_gather", &gemm_convt::set_direct_gather, py::arg("mode"));
  m.def("get_direct_gather", &gemm_convt::direct_gather);
  m.def("set_implicit_gemm", &gemm_convt::set_implicit_gemm, py::arg("mode"));
  m.def("get_implicit_gemm", &gemm_convt::implicit_gemm);
  m.def("build_info", &build_info, "How this extension was built");
}
