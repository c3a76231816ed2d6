#pragma once

// im2col of grad_output on the GPU. Blocks take column rows (grid y) and
// spans of a row (grid x); a row's channel and tap are resolved once, and each
// thread makes kIm2colPerThread values of it, one block-width apart:
// consecutive threads write consecutive values (coalesced stores), and the
// (sample, row, column) of a value comes from two precomputed divisions
// (divider.h). No atomics.

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>

#include "gemm_convt/divider.h"
#include "gemm_convt/im2col.h"

namespace gemm_convt {

constexpr int kIm2colThreads = 256;
constexpr int kIm2colPerThread = 4;
constexpr int64_t kIm2colSpan = int64_t(kIm2colThreads) * kIm2colPerThread;
constexpr int64_t kIm2colMaxGridX = 65535;
// How far past a row's end the 32-bit kernel's indices may run.
constexpr int64_t kIm2colHeadroom = kIm2colMaxGridX * kIm2colSpan;

template <typename src_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kIm2colThreads)
    im2col_kernel(const Im2colChunk<index_t> chunk, const Divider<index_t> by_band,
                  const Divider<index_t> by_width, const src_t* __restrict__ src,
                  col_t* __restrict__ columns) {
  const index_t length = chunk.row_length(), rows = chunk.column_rows();
  const index_t band = chunk.band_pixels(), in_w = chunk.w_axis.in_size;
  const index_t step = index_t(gridDim.x) * index_t(kIm2colSpan);
  for (index_t row = blockIdx.y; row < rows; row += gridDim.y) {
    const Im2colRowSource<index_t> r = im2col_row_source(chunk, row);
    col_t* dst = columns + row * length;
    for (index_t base = index_t(blockIdx.x) * index_t(kIm2colSpan); base < length; base += step) {
#pragma unroll
      for (int t = 0; t < kIm2colPerThread; ++t) {
        const index_t k = base + index_t(t * kIm2colThreads + threadIdx.x);
        if (k < length) {
          const index_t n = by_band.div(k), pixel = k - n * band;
          const index_t h = by_width.div(pixel), w = pixel - h * in_w;
          dst[k] = static_cast<col_t>(im2col_value(chunk, src, r, n, h, w));
        }
      }
    }
  }
}

template <typename src_t, typename col_t, typename index_t>
void launch_im2col(const Im2colChunk<index_t>& chunk, const src_t* src, col_t* columns) {
  const int64_t length = chunk.row_length();
  const dim3 grid(static_cast<unsigned>(
                      std::min(kIm2colMaxGridX, (length + kIm2colSpan - 1) / kIm2colSpan)),
                  static_cast<unsigned>(std::min<int64_t>(65535, chunk.column_rows())));
  im2col_kernel<src_t, col_t, index_t>
      <<<grid, kIm2colThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
          chunk, Divider<index_t>(chunk.band_pixels()), Divider<index_t>(chunk.w_axis.in_size),
          src, columns);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
