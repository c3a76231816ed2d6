#pragma once

// cuBLAS GEMMs of the CUDA backward (host code), on gemm_strided_batched.
// `columns` holds im2col(grad_output) of one chunk (im2col.h): per group,
// channels*taps rows of row_length = samples * band pixels values, in the
// tensors' own dtype.

#include <ATen/ATen.h>

#include "columns_gemm.h"

namespace gemm_convt {

// Which of the backward's float32 GEMMs run on thin_gemm.cuh's kernel instead
// of cuBLAS, and grad_weight's K slices (parts: `slices` weight-shaped float
// buffers of partial sums, added into grad_weight by finish_grad_weight).
struct ThinPlan {
  bool grad_input = false, grad_weight = false;
  int64_t slices = 1;
  at::Tensor parts;
};

// Where the thin kernel pays (IEEE float32, in_per_group <= kThinMaxChannels,
// measured: NOTES.md, session 9). GEMM_CONVT_THIN_GEMM=0 turns it off, =1
// on wherever the kernel applies (in_per_group <= 64): for A/B probes.
ThinPlan thin_plan(const Problem& p, at::ScalarType dtype, bool allow_tf32, bool grad_input,
                   bool grad_weight);

// Bytes of partial sums grad_weight's slices may take out of the workspace
// cap (0: one slice, no partial sums).
int64_t thin_parts_bytes(const ThinPlan& plan, const at::Tensor& weight, int64_t workspace_bytes);

// Sets plan.slices and allocates plan.parts for chunks of shape `shape`.
void plan_thin_slices(const Problem& p, const ChunkShape& shape, const at::Tensor& weight,
                      int64_t parts_bytes, ThinPlan& plan);

// grad_weight = the sum of the slices' partial sums (a no-op with one slice).
void finish_grad_weight(const ThinPlan& plan, at::Tensor& grad_weight);

// grad_input[n][g][:, band] (+)= weight[g][:, chunk's rows] · (sample n's
// block of columns[g]) for every sample and group of the chunk; beta 0 on a
// (sample, band, group)'s first channel chunk, 1 after. `dst` is NCHW- or
// channels_last-contiguous, of dtype `dst_dtype` (the input's, or float to
// accumulate half types); `dst_n0` is the sample index of dst's first sample.
void grad_input_gemm_cuda(const Problem& p, const Chunk& c, const at::Tensor& weight,
                          const at::Tensor& columns, at::Tensor& dst, int64_t dst_n0,
                          bool allow_tf32, const ThinPlan& thin);

// grad_weight[g][:, chunk's rows] (+)= columns[g] · x[g] for the chunk's groups,
// contracting all its samples and pixels in one GEMM; beta 0 for the first
// chunk (sample 0, band 0), 1 after: a fixed order, bitwise-deterministic.
// `dst` is weight-shaped and contiguous (float for half types).
void grad_weight_gemm_cuda(const Problem& p, const Chunk& c, const MatrixRef& x,
                           const at::Tensor& columns, at::Tensor& dst, bool allow_tf32,
                           const ThinPlan& thin);

}  // namespace gemm_convt
