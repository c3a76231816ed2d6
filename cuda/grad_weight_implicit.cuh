#pragma once

// grad_weight on the tensor cores straight from the input and grad_output
// (include/gemm_convt/grad_weight.h): no columns. A block contracts one
// kernel tap's tile of 64 or 32 input x 64 or 32 output channels of a group
// over a slice of the input positions (mma.sync TF32; float32 as three TF32 products unless TF32
// is allowed); slices' partial sums are added in order (deterministic).

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// Whether this backward's grad_weight runs grad_weight_implicit_cuda: where
// the kernel supports the problem and set_implicit_gemm (True: wherever
// supported, False: never, None: the rule) takes it. GEMM_CONVT_GW_IMPLICIT
// (0 never, 1 wherever supported) overrides it for probes.
bool grad_weight_implicit_applies(const Problem& p, const ConvTranspose2dOptions& o,
                                  at::ScalarType dtype);

// grad_weight: contiguous, the weight's size and dtype.
void grad_weight_implicit_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                               const at::Tensor& input, const at::Tensor& grad_output,
                               at::Tensor& grad_weight);

}  // namespace gemm_convt
