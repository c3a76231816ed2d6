// Dispatch: checks the arguments again (the Python wrapper already gave the
// user a precise error; these keep direct calls of _C from writing out of
// bounds), allocates the output in torch's layout, and picks the backend.

#include <c10/core/DeviceGuard.h>

#include "conv_transpose2d.h"

namespace gemm_convt {

void check_arguments(const at::Tensor& input, const at::Tensor& weight,
                     const c10::optional<at::Tensor>& bias, const ConvTranspose2dOptions& o) {
  TORCH_CHECK(input.dim() == 4, "gemm_convt: expected input of 4 dimensions, but got ",
              input.dim());
  TORCH_CHECK(weight.dim() == 4, "gemm_convt: expected weight of 4 dimensions, but got ",
              weight.dim());
  TORCH_CHECK(input.size(2) > 0 && input.size(3) > 0,
              "gemm_convt: expected input with non-zero height and width, but got ", input.sizes());
  TORCH_CHECK(weight.numel() > 0,
              "gemm_convt: expected a non-empty weight, but got weight of size ", weight.sizes());
  TORCH_CHECK(o.groups > 0, "gemm_convt: expected groups > 0, but got ", o.groups);
  TORCH_CHECK(input.size(1) == weight.size(0) && input.size(1) % o.groups == 0,
              "gemm_convt: expected input channels ", weight.size(0),
              " divisible by groups ", o.groups, ", but got ", input.size(1));
  for (int d = 0; d < 2; ++d) {
    TORCH_CHECK(o.stride[d] > 0 && o.dilation[d] > 0 && o.padding[d] >= 0 &&
                    o.output_padding[d] >= 0 &&
                    o.output_padding[d] < std::max(o.stride[d], o.dilation[d]),
                "gemm_convt: invalid stride/padding/output_padding/dilation");
  }
  TORCH_CHECK(weight.device() == input.device() && weight.scalar_type() == input.scalar_type(),
              "gemm_convt: expected weight on ", input.device(), " with dtype ",
              input.scalar_type(), ", but got ", weight.device(), " ", weight.scalar_type());
  if (bias.has_value() && bias->defined()) {
    TORCH_CHECK(bias->dim() == 1 && bias->size(0) == weight.size(1) * o.groups,
                "gemm_convt: expected bias of shape [", weight.size(1) * o.groups,
                "], but got ", bias->sizes());
    TORCH_CHECK(bias->device() == input.device() && bias->scalar_type() == input.scalar_type(),
                "gemm_convt: expected bias on ", input.device(), " with dtype ",
                input.scalar_type(), ", but got ", bias->device(), " ", bias->scalar_type());
  }
  TORCH_CHECK(o.workspace_bytes > 0, "gemm_convt: expected workspace_bytes > 0, but got ",
              o.workspace_bytes);
}

namespace {

// torch returns channels_last when the input or the weight is channels_last.
at::MemoryFormat output_memory_format(const at::Tensor& input, const at::Tensor& weight) {
  const bool channels_last =
      input.suggest_memory_format() == at::MemoryFormat::ChannelsLast ||
      weight.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
  return channels_last ? at::MemoryFormat::ChannelsLast : at::MemoryFormat::Contiguous;
}

}  // namespace

at::Tensor conv_transpose2d_forward(const at::Tensor& input, const at::Tensor& weight,
                                    const c10::optional<at::Tensor>& bias,
                                    const ConvTranspose2dOptions& options) {
  check_arguments(input, weight, bias, options);
  const Problem p(input, weight, options);
  TORCH_CHECK(p.out_h > 0 && p.out_w > 0, "gemm_convt: expected a positive output size, but got ",
              p.out_h, "x", p.out_w);
  c10::OptionalDeviceGuard guard(input.device());
  at::Tensor out = at::empty({p.batch, p.out_channels(), p.out_h, p.out_w}, input.options(),
                             output_memory_format(input, weight));
  if (out.numel() == 0) return out;

  if (input.is_cuda()) {
#ifdef GEMM_CONVT_WITH_CUDA
    conv_transpose2d_cuda(input, weight, bias, out, options);
#else
    TORCH_CHECK(false, "gemm_convt: this build has no CUDA kernels (build_info()['cuda'] is "
                       "False); rebuild against a CUDA-enabled torch with nvcc on PATH");
#endif
  } else {
    TORCH_CHECK(input.device().is_cpu(), "gemm_convt: expected a CPU or CUDA tensor, but got ",
                input.device());
    conv_transpose2d_cpu(input, weight, bias, out, options);
  }
  return out;
}

}  // namespace gemm_convt
