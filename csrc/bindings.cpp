// The private module gemm_convt._C: build information and the process-wide
// settings. Importing it also registers the operators (register.cpp); the
// Python wrapper calls them as torch.ops.gemm_convt.*.

#include <torch/extension.h>

#include <array>
#include <string>
#include <vector>

#include "problem.h"
#include "settings.h"
#ifdef GEMM_CONVT_WITH_CUDA
#include "../cuda/gemm_graphs.h"
#endif

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

// The test hooks' call: their sizes checked, options with the geometry set
// (settings left at their zero values), and the Problem of the sizes through
// meta tensors (no memory).
void check_hook_sizes(const char* hook, const std::vector<int64_t>& input_size,
                      const std::vector<int64_t>& weight_size) {
  TORCH_CHECK(input_size.size() == 4 && weight_size.size() == 4, hook,
              ": expected 4-d input and weight sizes");
}

gemm_convt::ConvTranspose2dOptions hook_options(std::array<int64_t, 2> stride,
                                                std::array<int64_t, 2> padding,
                                                std::array<int64_t, 2> output_padding,
                                                std::array<int64_t, 2> dilation, int64_t groups) {
  gemm_convt::ConvTranspose2dOptions o{};
  o.stride = stride, o.padding = padding, o.output_padding = output_padding, o.dilation = dilation;
  o.groups = groups;
  return o;
}

gemm_convt::Problem hook_problem(const std::vector<int64_t>& input_size,
                                 const std::vector<int64_t>& weight_size, at::ScalarType type,
                                 const gemm_convt::ConvTranspose2dOptions& o) {
  const auto meta = at::TensorOptions().device(at::kMeta).dtype(type);
  return gemm_convt::Problem(at::empty(input_size, meta), at::empty(weight_size, meta), o);
}

at::ScalarType hook_dtype(const char* hook, const std::string& dtype) {
  TORCH_CHECK(dtype == "float32" || dtype == "float64" || dtype == "float16" || dtype == "bfloat16",
              hook, ": expected dtype float32, float64, float16 or bfloat16, but got ", dtype);
  return dtype == "float64"    ? at::kDouble
         : dtype == "float16"  ? at::kHalf
         : dtype == "bfloat16" ? at::kBFloat16
                               : at::kFloat;
}

// Test hook: the CUDA backend's width-folding rule (problem.h's
// width_fold_pays) for a call's sizes, so that CPU CI checks its picks. The
// sizes go through meta tensors (no memory); dtype is "float32", "float64",
// "float16" or "bfloat16".
bool width_fold_pays_for(const std::vector<int64_t>& input_size,
                         const std::vector<int64_t>& weight_size, std::array<int64_t, 2> stride,
                         std::array<int64_t, 2> padding, std::array<int64_t, 2> output_padding,
                         std::array<int64_t, 2> dilation, int64_t groups, const std::string& dtype,
                         bool allow_tf32, bool float_columns, bool channels_last_input) {
  check_hook_sizes("width_fold_pays_for", input_size, weight_size);
  const at::ScalarType type = hook_dtype("width_fold_pays_for", dtype);
  gemm_convt::ConvTranspose2dOptions o =
      hook_options(stride, padding, output_padding, dilation, groups);
  o.allow_tf32 = allow_tf32, o.float_columns = float_columns;
  const gemm_convt::Problem p = hook_problem(input_size, weight_size, type, o);
  return gemm_convt::width_fold_pays(p, o, type, channels_last_input);
}

// Test hook: whether CUDA's columns GEMM takes split TF32 products
// (problem.h's split_tf32_takes) for a call's sizes under set_fp32_split's
// split_mode and set_width_folding's fold_mode (1, 0, -1: None).
bool split_tf32_takes_for(const std::vector<int64_t>& input_size,
                          const std::vector<int64_t>& weight_size, std::array<int64_t, 2> stride,
                          std::array<int64_t, 2> padding, std::array<int64_t, 2> output_padding,
                          std::array<int64_t, 2> dilation, int64_t groups, const std::string& dtype,
                          bool allow_tf32, int split_mode, int fold_mode) {
  check_hook_sizes("split_tf32_takes_for", input_size, weight_size);
  const at::ScalarType type = hook_dtype("split_tf32_takes_for", dtype);
  gemm_convt::ConvTranspose2dOptions o =
      hook_options(stride, padding, output_padding, dilation, groups);
  o.allow_tf32 = allow_tf32, o.split_tf32 = split_mode, o.fold_w = fold_mode;
  o.workspace_bytes = gemm_convt::workspace_limit();  // the split's folded weight comes off it
  const gemm_convt::Problem p = hook_problem(input_size, weight_size, type, o);
  return gemm_convt::split_tf32_takes(p, o, type);
}

// Test hook: the width phases of col2im's block items (problem.h's
// col2im_block_groups; 0: single output columns) for a whole batch in one CPU
// chunk (samples side by side), plain or width-folded columns of column_bytes
// each, so that tests know which walk their shapes take.
int64_t col2im_block_groups_for(const std::vector<int64_t>& input_size,
                                const std::vector<int64_t>& weight_size,
                                std::array<int64_t, 2> stride, std::array<int64_t, 2> padding,
                                std::array<int64_t, 2> output_padding,
                                std::array<int64_t, 2> dilation, int64_t groups,
                                int64_t column_bytes, bool fold_w) {
  check_hook_sizes("col2im_block_groups_for", input_size, weight_size);
  TORCH_CHECK(column_bytes == 2 || column_bytes == 4 || column_bytes == 8,
              "col2im_block_groups_for: expected column_bytes 2, 4 or 8, but got ", column_bytes);
  gemm_convt::ConvTranspose2dOptions o =
      hook_options(stride, padding, output_padding, dilation, groups);
  o.fold_w = fold_w ? 1 : 0;
  const gemm_convt::Problem p = hook_problem(input_size, weight_size, at::kFloat, o);
  const gemm_convt::ColumnsShape cs(p, o, /*fold_by_default=*/false);
  gemm_convt::Chunk c{0, p.batch, 0, p.groups, 0, p.out_per_group, 0, p.out_h, 0, p.in_h};
  return gemm_convt::col2im_block_groups(p, cs, gemm_convt::columns_layout(cs, c, true),
                                         column_bytes);
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
  m.def("_set_col2im_blocks", &gemm_convt::set_col2im_blocks, py::arg("enabled"),
        "Test hook: col2im's block items where they apply (default True)");
  m.def("_get_col2im_blocks", &gemm_convt::col2im_blocks);
  m.def("set_gemm_graphs", &gemm_convt::set_gemm_graphs, py::arg("enabled"));
  m.def("get_gemm_graphs", &gemm_convt::gemm_graphs);
  m.def("release_gemm_graphs", [] {
#ifdef GEMM_CONVT_WITH_CUDA
    gemm_convt::release_gemm_graphs();
#endif
  }, "Free the cached GEMM graphs and their cuBLAS workspaces");
  m.def("_gemm_graph_stats", [] {
    py::dict d;
#ifdef GEMM_CONVT_WITH_CUDA
    const gemm_convt::GemmGraphStats s = gemm_convt::gemm_graph_stats();
    d["eager"] = s.eager, d["captured"] = s.captured, d["replayed"] = s.replayed;
    d["failed"] = s.failed, d["evicted"] = s.evicted, d["cached"] = s.cached;
#endif
    return d;
  }, "Test hook: GEMM graph counts (eager, captured, replayed, failed, evicted; cached now)");
  m.def("build_info", &build_info, "How this extension was built");
  m.def("_width_fold_pays", &width_fold_pays_for, py::arg("input_size"), py::arg("weight_size"),
        py::arg("stride"), py::arg("padding"), py::arg("output_padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("dtype"), py::arg("allow_tf32"), py::arg("float_columns"),
        py::arg("channels_last_input"), "Test hook: CUDA's width-folding rule for these sizes");
  m.def("_split_tf32_takes", &split_tf32_takes_for, py::arg("input_size"), py::arg("weight_size"),
        py::arg("stride"), py::arg("padding"), py::arg("output_padding"), py::arg("dilation"),
        py::arg("groups"), py::arg("dtype"), py::arg("allow_tf32"), py::arg("split_mode"),
        py::arg("fold_mode"), "Test hook: whether CUDA's columns GEMM splits float32 for these sizes");
  m.def("_col2im_block_groups", &col2im_block_groups_for, py::arg("input_size"),
        py::arg("weight_size"), py::arg("stride"), py::arg("padding"), py::arg("output_padding"),
        py::arg("dilation"), py::arg("groups"), py::arg("column_bytes"), py::arg("fold_w"),
        "Test hook: col2im's block width phases for these sizes on the CPU (0: none)");
}
