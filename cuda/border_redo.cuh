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

// Launches the weight's check on the current stream: the flags feed
// redo_if_flagged, and the check may run beside the path's own kernels.
at::Tensor flag_non_finite_weight(const at::Tensor& weight);

// The device bytes flag_non_finite_weight allocates (as the caching allocator
// rounds them), for paths that plan a workspace cap around it.
int64_t non_finite_flag_bytes(const at::Tensor& weight);

// On the current stream, after the path has written out (and the check ran):
// returns at once unless the flags are set, else recomputes out.
void redo_if_flagged(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                     const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& flags,
                     at::Tensor& out);

}  // namespace gemm_convt
