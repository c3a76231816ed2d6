#pragma once

// A float32 GEMM for grad_weight's thinnest products: M = out_per_group *
// taps rows of columns, N = in_per_group <= 16 channels, K = a chunk's pixels.
// cuBLAS runs them with its small-N kernels (gemmSN) far below the speed of
// reading the columns (kb75: 5.2 ms for 2 GB); this one took 1.6 ms
// (NOTES.md, session 9). Where N >= 32 it was slower than cuBLAS's SIMT
// kernels, so it is not used there (backward_gemm.cpp has the rule). Plain fp32 FMAs in a fixed order; K is
// split into slices that write partial sums, which sum_slices_cuda adds in
// slice order: bitwise-deterministic.

#include <cstdint>

namespace gemm_convt {

// Element (i, j) of batch entry b at ptr[b * batch_stride + i * s0 + j * s1].
struct ThinMatrix {
  const float* ptr;
  int64_t s0, s1, batch_stride;
};

// The widest N the kernel takes (tiles of 8, 16, 32 or 64 columns).
constexpr int64_t kThinMaxN = 64;

// For b < batch: C[b] = beta * C[b] + A[b] (m x k) · B[b] (k x n). A must be
// contiguous along k (s1 == 1), its offsets within 32 bits. With slices > 1, slice s contracts its
// share of K (whole multiples of the kernel's K step) into C shifted by
// s * slice_stride: partial sums for sum_slices_cuda. beta == 0 never reads
// C. On torch's current stream.
void thin_gemm_cuda(int64_t m, int64_t n, int64_t k, const ThinMatrix& a, const ThinMatrix& b,
                    float* c, int64_t c_s0, int64_t c_s1, int64_t c_batch_stride, float beta,
                    int64_t batch, int64_t slices, int64_t slice_stride);

// How many K slices fill the GPU for this product (each slice at least a
// few hundred long, at most max_slices): 1 where the output tiles alone do.
int64_t thin_gemm_slices(int64_t m, int64_t n, int64_t k, int64_t batch, int64_t max_slices);

// dst[i] = part[i] + part[count + i] + ... (slices terms, in order).
void sum_slices_cuda(const float* part, int64_t slices, int64_t count, float* dst);

}  // namespace gemm_convt
