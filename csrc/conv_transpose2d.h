#pragma once

// conv_transpose2d forward: one signature for every backend. The caller
// (dispatch) has validated the arguments and allocated `out` (N, Cout, Hout,
// Wout) in the memory format the result should have; a backend writes every
// element of `out` exactly once.

#include <ATen/ATen.h>

#include "problem.h"

namespace gemm_convt {

// Raises a RuntimeError on arguments a backend could not handle safely (the
// Python wrapper gives the user precise errors first; direct callers of the
// registered operator get these).
void check_arguments(const at::Tensor& input, const at::Tensor& weight,
                     const c10::optional<at::Tensor>& bias, const ConvTranspose2dOptions& options);

at::Tensor conv_transpose2d_forward(const at::Tensor& input, const at::Tensor& weight,
                                    const c10::optional<at::Tensor>& bias,
                                    const ConvTranspose2dOptions& options);

void conv_transpose2d_cpu(const at::Tensor& input, const at::Tensor& weight,
                          const c10::optional<at::Tensor>& bias, at::Tensor& out,
                          const ConvTranspose2dOptions& options);

// The direct gather on the CPU (csrc/cpu/direct_gather_cpu.cpp): weight contiguous.
void direct_gather_cpu(const Problem& p, const ConvTranspose2dOptions& o,
                       const at::Tensor& input, const at::Tensor& weight,
                       const at::Tensor& bias, at::Tensor& out);

// The implicit GEMM's walk on the CPU (csrc/cpu/implicit_gemm_cpu.cpp): weight contiguous.
void implicit_gemm_cpu(const Problem& p, const ConvTranspose2dOptions& o,
                       const at::Tensor& input, const at::Tensor& weight,
                       const at::Tensor& bias, at::Tensor& out);

#ifdef GEMM_CONVT_WITH_CUDA
void conv_transpose2d_cuda(const at::Tensor& input, const at::Tensor& weight,
                           const c10::optional<at::Tensor>& bias, at::Tensor& out,
                           const ConvTranspose2dOptions& options);
#endif

}  // namespace gemm_convt
