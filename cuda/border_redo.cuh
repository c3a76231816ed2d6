#pragma once

// The implicit GEMM and the width fold multiply every tap by input that is
// zero where the tap misses (padding, the input's edges). With a finite weight
// that adds nothing, as torch does; with an inf or NaN weight, 0 x inf is NaN
// at outputs torch leaves finite. Testing the weight on the host would sync
// the device on every call, so a small kernel flags such a weight on the
// device and a guarded kernel after the path recomputes the whole output from
// the taps that land, only when flagged (two short launches otherwise).

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// Call after a forward path that contracts missing taps with zeros has written out.
void redo_if_weight_non_finite(const Problem& p, const ConvTranspose2dOptions& o,
                               const at::Tensor& input, const at::Tensor& weight,
                               const at::Tensor& bias, at::Tensor& out);

}  // namespace gemm_convt
