#pragma once

// Tensor-core implicit GEMM: each output row's positions of one stride phase
// (GEMM M) times a tile of output channels (GEMM N), contracted over the input
// channels of every tap that lands on them (GEMM K), straight from the input:
// no columns, no workspace, each output element written once (deterministic).
// float32 runs as three TF32 products (float32-class accuracy) unless TF32 is
// allowed; float16/bfloat16 values are exact in TF32 and take one product.

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// Whether this call runs implicit_gemm_cuda: a cost model against the other
// paths, or forced on/off (set_implicit_gemm), where the kernel supports it.
bool implicit_gemm_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType dtype);

void implicit_gemm_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out);

}  // namespace gemm_convt
