#pragma once

// Problems whose columns cost more than the arithmetic they stand for (few
// multiply-adds per output value, as #75's 20; or an IEEE float32 GEMM whose
// columns dwarf the output, as #71's): each output value gathers its hits and
// contracts them with the weight on the fly in the accumulation type (float32
// FMAs for float32, so float32-accurate under any TF32 policy). No workspace;
// every output element written once by one thread (deterministic). Where the
// taps are disjoint, its row form runs (gather_rows.cuh).

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// Whether this call runs direct_gather_cuda (set_direct_gather: by a cost
// model against GEMM + col2im, forced, or off).
bool direct_gather_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType dtype);

// The cost model's parts (seconds predicted on the H100), for the implicit
// GEMM's choice too: the gather's time (infinity where neither of its forms
// can run this problem, so each asks its support check once), and the time of
// GEMM + col2im.
double direct_gather_seconds(const Problem& p, const ConvTranspose2dOptions& o,
                             at::ScalarType dtype);
double columns_path_seconds(const Problem& p, const ConvTranspose2dOptions& o,
                            at::ScalarType dtype);

void direct_gather_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out);

}  // namespace gemm_convt
