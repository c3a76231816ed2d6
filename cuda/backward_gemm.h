#pragma once

// cuBLAS GEMMs of the CUDA backward (host code), on gemm_strided_batched.
// `columns` holds im2col(grad_output) of one chunk in the forward's layout
// (columns.h / chunking.h), in the tensors' own dtype.

#include <ATen/ATen.h>

#include "columns_gemm.h"

namespace gemm_convt {

// grad_input[n][g] (+)= weight[g][:, chunk's rows] · columns[n][g] for every
// sample and group of the chunk; beta 0 on a (sample, group)'s first channel
// chunk, 1 after. `dst` is NCHW- or channels_last-contiguous, of dtype
// `dst_dtype` (the input's, or float to accumulate half types); `dst_n0`
// is the sample index of the chunk's first sample in dst.
void grad_input_gemm_cuda(const Problem& p, const Chunk& c, const at::Tensor& weight,
                          const at::Tensor& columns, at::Tensor& dst, int64_t dst_n0,
                          bool allow_tf32);

// grad_weight[g][:, chunk's rows] (+)= input[n][g] · columns[n][g]ᵀ, one sample
// after another (a fixed order: bitwise-deterministic), batched over groups;
// beta 0 for sample 0, 1 after. `dst` is weight-shaped and contiguous (float
// for half types).
void grad_weight_gemm_cuda(const Problem& p, const Chunk& c, const InputOperand& x,
                           const at::Tensor& columns, at::Tensor& dst, bool allow_tf32);

}  // namespace gemm_convt
