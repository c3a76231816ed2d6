// The private module gemm_convt._C. The Python wrapper normalises and checks
// arguments; these functions take them ready-made.

#include <torch/extension.h>

#include "conv_transpose2d.h"

namespace {

std::array<int64_t, 2> pair(const std::vector<int64_t>& v, const char* name) {
  TORCH_CHECK(v.size() == 2, "gemm_convt: expected ", name, " of 2 values, but got ", v.size());
  return {v[0], v[1]};
}

at::Tensor forward(const at::Tensor& input, const at::Tensor& weight,
                   const c10::optional<at::Tensor>& bias, const std::vector<int64_t>& stride,
                   const std::vector<int64_t>& padding,
                   const std::vector<int64_t>& output_padding,
                   const std::vector<int64_t>& dilation, int64_t groups,
                   int64_t workspace_bytes, bool float_columns, bool allow_tf32, bool split_tf32,
                   int64_t fold_w) {
  gemm_convt::ConvTranspose2dOptions o{pair(stride, "stride"),
                                       pair(padding, "padding"),
                                       pair(output_padding, "output_padding"),
                                       pair(dilation, "dilation"),
                                       groups,
                                       workspace_bytes,
                                       float_columns,
                                       allow_tf32,
                                       split_tf32,
                                       static_cast<int>(fold_w)};
  return gemm_convt::conv_transpose2d_forward(input, weight, bias, o);
}

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
  m.def("forward", &forward, "conv_transpose2d forward as GEMM + col2im", py::arg("input"),
        py::arg("weight"), py::arg("bias"), py::arg("stride"), py::arg("padding"),
        py::arg("output_padding"), py::arg("dilation"), py::arg("groups"),
        py::arg("workspace_bytes"), py::arg("float_columns"), py::arg("allow_tf32"), py::arg("split_tf32"), py::arg("fold_w"));
  m.def("build_info", &build_info, "How this extension was built");
}
