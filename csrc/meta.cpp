// Meta kernels for torch < 2.1, which has no Python API for fake kernels
// (gemm_convt/_fake.py registers those on newer torch, where they also
// handle symbolic sizes; a C++ Meta kernel there would make that registration
// fail). They give meta tensors (device="meta": shape inference, deferred
// initialisation) the real kernels' shapes, dtypes and layouts.

#include <torch/library.h>
#include <torch/version.h>

#if TORCH_VERSION_MAJOR < 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR < 1)

#include "gemm_convt/geometry.h"
#include "ops.h"

namespace gemm_convt {
namespace {

bool channels_last(const at::Tensor& t) {
  return t.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
}

at::Tensor meta_forward(const at::Tensor& input, const at::Tensor& weight,
                        const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                        at::IntArrayRef padding, at::IntArrayRef output_padding,
                        at::IntArrayRef dilation, int64_t groups) {
  TORCH_CHECK(input.dim() == 3 || input.dim() == 4,
              "gemm_convt: expected input of 3 (unbatched) or 4 (batched) dimensions, but got ",
              input.dim());
  TORCH_CHECK(weight.dim() == 4 && weight.size(0) == input.size(-3),
              "gemm_convt: expected a 4-D weight with input.size(-3) = ", input.size(-3),
              " rows, but got weight of size ", weight.sizes());
  TORCH_CHECK(stride.size() == 2 && padding.size() == 2 && output_padding.size() == 2 &&
                  dilation.size() == 2,
              "gemm_convt: expected stride, padding, output_padding and dilation of 2 values");
  const bool unbatched = input.dim() == 3;
  const at::Tensor x = unbatched ? input.unsqueeze(0) : input;
  std::vector<int64_t> size{x.size(0), weight.size(1) * groups};
  for (int d = 0; d < 2; ++d) {
    size.push_back(transposed_output_size(x.size(2 + d), weight.size(2 + d), stride[d], padding[d],
                                          dilation[d], output_padding[d]));
    TORCH_CHECK(size.back() > 0, "gemm_convt: expected a positive output size, but got ",
                size.back());
  }
  const auto format = channels_last(x) || channels_last(weight) ? at::MemoryFormat::ChannelsLast
                                                                : at::MemoryFormat::Contiguous;
  at::Tensor out = at::empty(size, x.options(), format);
  return unbatched ? out.squeeze(0) : out;
}

Grads meta_backward(const at::Tensor& grad_output, const at::Tensor& input,
                    const at::Tensor& weight, at::IntArrayRef stride, at::IntArrayRef padding,
                    at::IntArrayRef output_padding, at::IntArrayRef dilation, int64_t groups,
                    std::array<bool, 3> output_mask) {
  at::Tensor grad_input, grad_weight, grad_bias;
  if (output_mask[0]) {
    const at::Tensor x = input.dim() == 3 ? input.unsqueeze(0) : input;
    grad_input = at::empty(x.sizes(), x.options(), x.suggest_memory_format());
    if (input.dim() == 3) grad_input = grad_input.squeeze(0);
  }
  if (output_mask[1]) grad_weight = at::empty(weight.sizes(), weight.options());
  if (output_mask[2]) grad_bias = at::empty({weight.size(1) * groups}, input.options());
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace
}  // namespace gemm_convt

TORCH_LIBRARY_IMPL(gemm_convt, Meta, m) {
  m.impl("conv_transpose2d", TORCH_FN(gemm_convt::meta_forward));
  m.impl("conv_transpose2d_backward", TORCH_FN(gemm_convt::meta_backward));
}

#endif
