// Backward dispatch: checks grad_output against the forward's geometry,
// computes grad_bias, allocates the requested gradients and picks the backend.

#include "conv_transpose2d_backward.h"

#include <c10/core/DeviceGuard.h>

#include "conv_transpose2d.h"

namespace gemm_convt {

c10::optional<ConvTranspose2dOptions> grad_input_forward_options(const Problem& p,
                                                                 const ConvTranspose2dOptions& o) {
  const std::array<int64_t, 2> kernel{p.kernel_h, p.kernel_w};
  ConvTranspose2dOptions f = o;
  for (int d = 0; d < 2; ++d) {
    const int64_t reach = o.dilation[d] * (kernel[d] - 1);
    if (o.stride[d] != 1 || o.output_padding[d] != 0 || o.padding[d] > reach) return c10::nullopt;
    f.padding[d] = reach - o.padding[d];
  }
  return f;
}

Problem grad_input_forward_problem(const Problem& p) {
  Problem q = p;
  q.in_channels = p.out_channels();
  q.in_h = p.out_h, q.in_w = p.out_w;
  q.in_per_group = p.out_per_group, q.out_per_group = p.in_per_group;
  q.out_h = p.in_h, q.out_w = p.in_w;
  return q;
}

at::Tensor grad_input_forward_weight(const Problem& p, const at::Tensor& weight) {
  return weight.view({p.groups, p.in_per_group, p.out_per_group, p.kernel_h, p.kernel_w})
      .transpose(1, 2)
      .flip({3, 4})
      .reshape({p.out_channels(), p.in_per_group, p.kernel_h, p.kernel_w})
      .contiguous();
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> conv_transpose2d_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const ConvTranspose2dOptions& options, std::array<bool, 3> output_mask) {
  check_arguments(input, weight, c10::nullopt, options);
  const Problem p(input, weight, options);
  TORCH_CHECK(grad_output.dim() == 4 && grad_output.size(0) == p.batch &&
                  grad_output.size(1) == p.out_channels() && grad_output.size(2) == p.out_h &&
                  grad_output.size(3) == p.out_w,
              "gemm_convt: expected grad_output of size [", p.batch, ", ", p.out_channels(), ", ",
              p.out_h, ", ", p.out_w, "] (the forward's output), but got ", grad_output.sizes());
  TORCH_CHECK(grad_output.device() == input.device() &&
                  grad_output.scalar_type() == input.scalar_type(),
              "gemm_convt: expected grad_output on ", input.device(), " with dtype ",
              input.scalar_type(), ", but got ", grad_output.device(), " ",
              grad_output.scalar_type());
  TORCH_CHECK(input.is_cuda() || input.device().is_cpu(),
              "gemm_convt: expected a CPU or CUDA tensor, but got ", input.device());
  c10::OptionalDeviceGuard guard(input.device());

  at::Tensor grad_input, grad_weight, grad_bias;
  if (output_mask[2]) {
    // Accumulated in float (double for double), deterministic reduction.
    const auto acc = input.scalar_type() == at::kDouble ? at::kDouble : at::kFloat;
    grad_bias = at::sum(grad_output, {0, 2, 3}, /*keepdim=*/false, acc).to(input.scalar_type());
  }
  if (output_mask[0])
    grad_input = at::empty(input.sizes(), input.options(), input.suggest_memory_format());
  if (output_mask[1]) grad_weight = at::empty(weight.sizes(), weight.options());
  if (!output_mask[0] && !output_mask[1]) return {grad_input, grad_weight, grad_bias};
  if (p.batch == 0) {
    if (grad_weight.defined()) grad_weight.zero_();
    return {grad_input, grad_weight, grad_bias};
  }

  if (input.is_cuda()) {
#ifdef GEMM_CONVT_WITH_CUDA
    conv_transpose2d_backward_cuda(grad_output, input, weight, options, grad_input, grad_weight);
#else
    TORCH_CHECK(false, "gemm_convt: this build has no CUDA kernels (build_info()['cuda'] is "
                       "False); rebuild against a CUDA-enabled torch with nvcc on PATH");
#endif
  } else {
    conv_transpose2d_backward_cpu(grad_output, input, weight, options, grad_input, grad_weight);
  }
  return {grad_input, grad_weight, grad_bias};
}

}  // namespace gemm_convt
