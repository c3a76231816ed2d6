// Every registration of the gemm_convt operators with torch's dispatcher, in
// the way torchvision registers its ops. Importing gemm_convt._C runs them.
// Autocast kernels are registered here too (defined in autocast.cpp). The
// fake (meta) kernels that torch.compile / torch.export need are Python
// functions registered by gemm_convt/_fake.py (they handle symbolic sizes).

#include <torch/library.h>

#include "ops.h"

TORCH_LIBRARY(gemm_convt, m) {
  m.def(
      "conv_transpose2d(Tensor input, Tensor weight, Tensor? bias, int[2] stride, "
      "int[2] padding, int[2] output_padding, int[2] dilation, int groups) -> Tensor");
  m.def(
      "conv_transpose2d_backward(Tensor grad_output, Tensor input, Tensor weight, "
      "int[2] stride, int[2] padding, int[2] output_padding, int[2] dilation, int groups, "
      "bool[3] output_mask) -> (Tensor, Tensor, Tensor)");
}

// One kernel serves CPU and CUDA: the dispatch layer picks the backend (and
// explains a CUDA tensor reaching a build without CUDA kernels).
TORCH_LIBRARY_IMPL(gemm_convt, CPU, m) {
  m.impl("conv_transpose2d", TORCH_FN(gemm_convt::conv_transpose2d_kernel));
  m.impl("conv_transpose2d_backward", TORCH_FN(gemm_convt::conv_transpose2d_backward_kernel));
}

TORCH_LIBRARY_IMPL(gemm_convt, CUDA, m) {
  m.impl("conv_transpose2d", TORCH_FN(gemm_convt::conv_transpose2d_kernel));
  m.impl("conv_transpose2d_backward", TORCH_FN(gemm_convt::conv_transpose2d_backward_kernel));
}

TORCH_LIBRARY_IMPL(gemm_convt, Autograd, m) {
  m.impl("conv_transpose2d", TORCH_FN(gemm_convt::conv_transpose2d_autograd));
  m.impl("conv_transpose2d_backward", TORCH_FN(gemm_convt::conv_transpose2d_backward_autograd));
}

TORCH_LIBRARY_IMPL(gemm_convt, AutocastCUDA, m) {
  m.impl("conv_transpose2d", TORCH_FN(gemm_convt::conv_transpose2d_autocast_cuda));
}

TORCH_LIBRARY_IMPL(gemm_convt, AutocastCPU, m) {
  m.impl("conv_transpose2d", TORCH_FN(gemm_convt::conv_transpose2d_autocast_cpu));
}
