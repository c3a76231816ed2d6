// Backend kernels of the registered operators: unbatched input, options
// from the arguments plus the process-wide settings, then the dispatch layer
// (conv_transpose2d.cpp, conv_transpose2d_backward.cpp).

#include "ops.h"

#include <ATen/core/dispatch/Dispatcher.h>

#include "conv_transpose2d.h"
#include "conv_transpose2d_backward.h"
#include "settings.h"

namespace gemm_convt {
namespace {

std::array<int64_t, 2> pair(at::IntArrayRef v, const char* name) {
  TORCH_CHECK(v.size() == 2, "gemm_convt: expected ", name, " of 2 values, but got ", v.size());
  return {v[0], v[1]};
}

ConvTranspose2dOptions make_options(at::IntArrayRef stride, at::IntArrayRef padding,
                                    at::IntArrayRef output_padding, at::IntArrayRef dilation,
                                    int64_t groups) {
  return ConvTranspose2dOptions{pair(stride, "stride"),
                                pair(padding, "padding"),
                                pair(output_padding, "output_padding"),
                                pair(dilation, "dilation"),
                                groups,
                                workspace_limit(),
                                float_columns(),
                                allow_tf32(),
                                fp32_split(),
                                width_folding(),
                                disjoint_taps(),
                                direct_gather(),
                                implicit_gemm(),
                                col2im_blocks()};
}

bool is_unbatched(const at::Tensor& input) {
  TORCH_CHECK(input.dim() == 3 || input.dim() == 4,
              "gemm_convt: expected input of 3 (unbatched) or 4 (batched) dimensions, but got ",
              input.dim());
  return input.dim() == 3;
}

at::Tensor batched(const at::Tensor& t, bool unbatched) { return unbatched ? t.unsqueeze(0) : t; }

}  // namespace

at::Tensor conv_transpose2d_kernel(const at::Tensor& input, const at::Tensor& weight,
                                   const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                   at::IntArrayRef padding, at::IntArrayRef output_padding,
                                   at::IntArrayRef dilation, int64_t groups) {
  const bool unbatched = is_unbatched(input);
  at::Tensor out =
      conv_transpose2d_forward(batched(input, unbatched), weight, bias,
                               make_options(stride, padding, output_padding, dilation, groups));
  return unbatched ? out.squeeze(0) : out;
}

Grads conv_transpose2d_backward_kernel(const at::Tensor& grad_output, const at::Tensor& input,
                                       const at::Tensor& weight, at::IntArrayRef stride,
                                       at::IntArrayRef padding, at::IntArrayRef output_padding,
                                       at::IntArrayRef dilation, int64_t groups,
                                       std::array<bool, 3> output_mask) {
  const bool unbatched = is_unbatched(input);
  TORCH_CHECK(grad_output.dim() == input.dim(), "gemm_convt: expected grad_output of ",
              input.dim(), " dimensions (the input's), but got ", grad_output.dim());
  Grads grads = conv_transpose2d_backward(
      batched(grad_output, unbatched), batched(input, unbatched), weight,
      make_options(stride, padding, output_padding, dilation, groups), output_mask);
  if (unbatched && std::get<0>(grads).defined()) std::get<0>(grads) = std::get<0>(grads).squeeze(0);
  return grads;
}

at::Tensor call_conv_transpose2d(const at::Tensor& input, const at::Tensor& weight,
                                 const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                 at::IntArrayRef padding, at::IntArrayRef output_padding,
                                 at::IntArrayRef dilation, int64_t groups) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("gemm_convt::conv_transpose2d", "")
                             .typed<decltype(conv_transpose2d_kernel)>();
  return op.call(input, weight, bias, stride, padding, output_padding, dilation, groups);
}

Grads call_conv_transpose2d_backward(const at::Tensor& grad_output, const at::Tensor& input,
                                     const at::Tensor& weight, at::IntArrayRef stride,
                                     at::IntArrayRef padding, at::IntArrayRef output_padding,
                                     at::IntArrayRef dilation, int64_t groups,
                                     std::array<bool, 3> output_mask) {
  static const auto op = c10::Dispatcher::singleton()
                             .findSchemaOrThrow("gemm_convt::conv_transpose2d_backward", "")
                             .typed<decltype(conv_transpose2d_backward_kernel)>();
  return op.call(grad_output, input, weight, stride, padding, output_padding, dilation, groups,
                 output_mask);
}

}  // namespace gemm_convt
