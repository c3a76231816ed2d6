#pragma once

// Problems with few multiply-adds per output value (a small contraction per
// group, taps spread by the stride: #75 has 20) and large columns: each
// output value gathers its hits and contracts them with the weight on the
// fly, in the accumulation type, instead of going through a columns buffer
// whose bytes cost more than the arithmetic they stand for. No workspace;
// every output element written once by one thread (deterministic).

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// Multiply-adds per output value on average: in_per_group * kh * kw / (sh * sw).
double macs_per_output(const Problem& p, const ConvTranspose2dOptions& o);

// Whether this call runs direct_gather_cuda (set_direct_gather: by a cost
// model against GEMM + col2im, forced, or off).
bool direct_gather_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType dtype);

void direct_gather_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out);

}  // namespace gemm_convt
