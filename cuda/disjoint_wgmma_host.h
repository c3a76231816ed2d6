#pragma once

// The disjoint-taps wgmma kernel (disjoint_wgmma.h) as disjoint_taps_cuda calls it.

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// float32 without TF32, taps tiling each stride cell exactly (kernel == stride,
// dilation 1), compute capability 9.0, the packed weight within the workspace
// cap (GEMM_CONVT_WGMMA=0 turns it off: A/B runs). The caller asks only where
// disjoint_taps_applies took the call with NCHW rows copied in 16-byte vectors.
bool disjoint_wgmma_applies(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input);

// Every output a cell reaches (the caller fills the rest with the bias).
void disjoint_wgmma_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                         const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out);

}  // namespace gemm_convt
