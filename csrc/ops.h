#pragma once

// The registered operators gemm_convt::conv_transpose2d and
// gemm_convt::conv_transpose2d_backward (schemas in register.cpp): their
// backend kernels, their Autograd kernels, and typed calls through the
// dispatcher (so that an Autograd kernel reaches the backend below it, and a
// gradient formula records its own graph for higher-order derivatives).
//
// Inputs may be batched (N, C, H, W) or unbatched (C, H, W). The process-wide
// settings (settings.h) complete the options.

#include <ATen/ATen.h>

#include <array>
#include <tuple>

namespace gemm_convt {

using Grads = std::tuple<at::Tensor, at::Tensor, at::Tensor>;

// CPU and CUDA kernels (the dispatch layer below them picks the backend).
at::Tensor conv_transpose2d_kernel(const at::Tensor& input, const at::Tensor& weight,
                                   const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                   at::IntArrayRef padding, at::IntArrayRef output_padding,
                                   at::IntArrayRef dilation, int64_t groups);
Grads conv_transpose2d_backward_kernel(const at::Tensor& grad_output, const at::Tensor& input,
                                       const at::Tensor& weight, at::IntArrayRef stride,
                                       at::IntArrayRef padding, at::IntArrayRef output_padding,
                                       at::IntArrayRef dilation, int64_t groups,
                                       std::array<bool, 3> output_mask);

// Autograd kernels (autograd.cpp).
at::Tensor conv_transpose2d_autograd(const at::Tensor& input, const at::Tensor& weight,
                                     const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                     at::IntArrayRef padding, at::IntArrayRef output_padding,
                                     at::IntArrayRef dilation, int64_t groups);
Grads conv_transpose2d_backward_autograd(const at::Tensor& grad_output, const at::Tensor& input,
                                         const at::Tensor& weight, at::IntArrayRef stride,
                                         at::IntArrayRef padding, at::IntArrayRef output_padding,
                                         at::IntArrayRef dilation, int64_t groups,
                                         std::array<bool, 3> output_mask);

// Autocast kernels (autocast.cpp): cast as torch.autocast casts F.conv_transpose2d's
// arguments, then call the operator below the autocast key.
at::Tensor conv_transpose2d_autocast_cuda(const at::Tensor& input, const at::Tensor& weight,
                                          const c10::optional<at::Tensor>& bias,
                                          at::IntArrayRef stride, at::IntArrayRef padding,
                                          at::IntArrayRef output_padding, at::IntArrayRef dilation,
                                          int64_t groups);
at::Tensor conv_transpose2d_autocast_cpu(const at::Tensor& input, const at::Tensor& weight,
                                         const c10::optional<at::Tensor>& bias,
                                         at::IntArrayRef stride, at::IntArrayRef padding,
                                         at::IntArrayRef output_padding, at::IntArrayRef dilation,
                                         int64_t groups);

// The operators, called through the dispatcher.
at::Tensor call_conv_transpose2d(const at::Tensor& input, const at::Tensor& weight,
                                 const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                                 at::IntArrayRef padding, at::IntArrayRef output_padding,
                                 at::IntArrayRef dilation, int64_t groups);
Grads call_conv_transpose2d_backward(const at::Tensor& grad_output, const at::Tensor& input,
                                     const at::Tensor& weight, at::IntArrayRef stride,
                                     at::IntArrayRef padding, at::IntArrayRef output_padding,
                                     at::IntArrayRef dilation, int64_t groups,
                                     std::array<bool, 3> output_mask);

}  // namespace gemm_convt
