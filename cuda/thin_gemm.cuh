#pragma once

// A float32 GEMM for the backward's thinnest products, N = in_per_group <= 16:
// grad_weight (M = out_per_group * taps rows of columns, K = a chunk's
// pixels) and grad_input (M = pixels, K = rows). cuBLAS runs them with its
// small-N kernels (gemmSN) far below the speed of reading the columns
// (kb75 grad_weight: 5.2 ms for 2 GB); this one took 1.6-1.8 ms (NOTES.md,
// session 9). Where N >= 32 it was slower than cuBLAS's SIMT kernels, and
// under the TF32 policy no faster than cuBLAS's TF32 ones, so it is not used
// there (backward_gemm.cpp has the rule). Plain fp32 FMAs in a fixed order;
// grad_weight's K is split into slices that write partial sums, which
// sum_slices_cuda adds in slice order: bitwise-deterministic.

#include <cstdint>

namespace gemm_convt {

// Element (i, j) of batch entry b, group g at
// ptr[b * batch_stride + g * group_stride + i * s0 + j * s1].
struct ThinMatrix {
  const float* ptr;
  int64_t s0, s1, batch_stride, group_stride = 0;
};
struct ThinOutput {
  float* ptr;
  int64_t s0, s1, batch_stride, group_stride = 0;
};

// The widest N the kernel takes (tiles of 8, 16, 32 or 64 columns).
constexpr int64_t kThinMaxN = 64;

// For b < batch, g < groups: C[b, g] = beta * C[b, g] + A[b, g] (m x k) ·
// B[b, g] (k x n). A must be contiguous along m or k, its offsets within a
// (b, g) entry within 32 bits. With slices > 1, slice s contracts its share
// of K (whole multiples of the kernel's K step) into C shifted by
// s * slice_stride: partial sums for sum_slices_cuda. beta == 0 never reads
// C. On torch's current stream.
void thin_gemm_cuda(int64_t m, int64_t n, int64_t k, const ThinMatrix& a, const ThinMatrix& b,
                    const ThinOutput& c, float beta, int64_t batch, int64_t groups,
                    int64_t slices, int64_t slice_stride);

// How many K slices fill the GPU for this product (each slice at least a
// few hundred long, at most max_slices): 1 where the output tiles alone do.
int64_t thin_gemm_slices(int64_t m, int64_t n, int64_t k, int64_t batch, int64_t max_slices);

// dst[i] = part[i] + part[count + i] + ... (slices terms, in order).
void sum_slices_cuda(const float* part, int64_t slices, int64_t count, float* dst);

}  // namespace gemm_convt
