// Autocast kernels of gemm_convt::conv_transpose2d: under torch.autocast the
// operator runs in the dtype F.conv_transpose2d would run in, so a converted
// model keeps the original's mixed-precision behaviour.
//
// torch's policy for conv_transpose2d (aten/src/ATen/autocast_mode.cpp):
//   CUDA: "lower precision" on every supported torch: eligible tensors (floating,
//         not float64, on the autocast device) are cast to the autocast dtype;
//   CPU:  the same from torch 2.0 on; torch 1.13 lists it among the float32 ops
//         (eligible tensors are cast to float32).
// The casts go through torch's cast cache, and the operator is then called
// below the autocast key, so autograd records the casts as usual. The
// backward operator needs no autocast kernel: autograd runs it on the dtypes
// the forward saw.

#include <ATen/autocast_mode.h>
#include <c10/core/impl/LocalDispatchKeySet.h>
#include <torch/version.h>

#include "ops.h"

namespace gemm_convt {
namespace {

template <c10::DeviceType device>
at::ScalarType autocast_target_dtype() {
#if TORCH_VERSION_MAJOR < 2
  if (device == c10::DeviceType::CPU) return at::kFloat;
#endif
  return at::autocast::get_lower_precision_fp_from_device_type(device);
}

template <c10::DeviceType device>
at::Tensor autocast_kernel(const at::Tensor& input, const at::Tensor& weight,
                           const c10::optional<at::Tensor>& bias, at::IntArrayRef stride,
                           at::IntArrayRef padding, at::IntArrayRef output_padding,
                           at::IntArrayRef dilation, int64_t groups) {
  c10::impl::ExcludeDispatchKeyGuard no_autocast(
      at::autocast::get_autocast_dispatch_key_from_device_type(device));
  const at::ScalarType dtype = autocast_target_dtype<device>();
  return call_conv_transpose2d(at::autocast::cached_cast(dtype, input, device),
                               at::autocast::cached_cast(dtype, weight, device),
                               at::autocast::cached_cast(dtype, bias, device), stride, padding,
                               output_padding, dilation, groups);
}

}  // namespace

at::Tensor conv_transpose2d_autocast_cuda(const at::Tensor& input, const at::Tensor& weight,
                                          const c10::optional<at::Tensor>& bias,
                                          at::IntArrayRef stride, at::IntArrayRef padding,
                                          at::IntArrayRef output_padding, at::IntArrayRef dilation,
                                          int64_t groups) {
  return autocast_kernel<c10::DeviceType::CUDA>(input, weight, bias, stride, padding,
                                                output_padding, dilation, groups);
}

at::Tensor conv_transpose2d_autocast_cpu(const at::Tensor& input, const at::Tensor& weight,
                                         const c10::optional<at::Tensor>& bias,
                                         at::IntArrayRef stride, at::IntArrayRef padding,
                                         at::IntArrayRef output_padding, at::IntArrayRef dilation,
                                         int64_t groups) {
  return autocast_kernel<c10::DeviceType::CPU>(input, weight, bias, stride, padding,
                                               output_padding, dilation, groups);
}

}  // namespace gemm_convt
