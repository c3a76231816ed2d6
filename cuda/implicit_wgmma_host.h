#pragma once

// The wgmma implicit GEMM (implicit_wgmma.h) as implicit_gemm_cuda calls it.

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// A/B switch for every wgmma path (GEMM_CONVT_WGMMA=0: the mma.sync kernels),
// read per call.
bool wgmma_switched_off();

// float32, stride 1, compute capability 9.0, at least 48 output channels per
// group, a window within the staged span, one output row's packed input within
// the workspace cap and, unless the implicit GEMM is forced, enough
// multiply-adds per packed byte (GEMM_CONVT_WGMMA=0 turns it off: A/B runs).
bool implicit_wgmma_applies(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype);

// Every output of the call; split (TF32 not allowed) flags an infinite or NaN
// output in redo for implicit_gemm_cuda's guarded rerun.
void implicit_wgmma_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                         const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo);

}  // namespace gemm_convt
