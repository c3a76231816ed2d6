#pragma once

// cuBLAS GEMMs of the CUDA backward (host code), on gemm_strided_batched.
// `columns` holds im2col(grad_output) of one chunk (im2col.h): per group,
// channels*taps rows of row_length = samples * band pixels values, in the
// tensors' own dtype.

#include <ATen/ATen.h>

#include "columns_gemm.h"

namespace gemm_convt {

// grad_input[n][g][:, band] (+)= weight[g][:, chunk's rows] · (sample n's
// block of columns[g]) for every sample and group of the chunk; beta 0 on a
// (sample, band, group)'s first channel chunk, 1 after. `dst` is NCHW- or
// channels_last-contiguous, of dtype `dst_dtype` (the input's, or float to
// accumulate half types); `dst_n0` is the sample index of dst's first sample.
void grad_input_gemm_cuda(const Problem& p, const Chunk& c, const at::Tensor& weight,
                          const at::Tensor& columns, at::Tensor& dst, int64_t dst_n0,
                          bool allow_tf32);

// grad_weight[g][:, chunk's rows] (+)= columns[g] · x[g] for the chunk's groups,
// contracting all its samples and pixels in one GEMM; beta 0 for the first
// chunk (sample 0, band 0), 1 after: a fixed order, bitwise-deterministic.
// `dst` is weight-shaped and contiguous (float for half types).
void grad_weight_gemm_cuda(const Problem& p, const Chunk& c, const MatrixRef& x,
                           const at::Tensor& columns, at::Tensor& dst, bool allow_tf32);

}  // namespace gemm_convt
