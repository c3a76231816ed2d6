#pragma once

// im2col of grad_output on the GPU. Blocks take planes (group, channel: grid
// y) and spans of (sample, band pixel) positions (grid x); each thread makes
// every kernel tap's value at kIm2colPerThread positions one block-width
// apart. Consecutive threads write consecutive values of each column row
// (coalesced stores), and read overlapping windows of grad_output, which L1
// serves: each grad_output value comes from L2 about once, not once per tap.
// The (sample, row, column) of a position comes from two precomputed
// divisions (divider.h). No atomics.

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>

#include "gemm_convt/divider.h"
#include "gemm_convt/im2col.h"

namespace gemm_convt {

constexpr int kIm2colThreads = 256;
constexpr int kIm2colPerThread = 2;
constexpr int64_t kIm2colSpan = int64_t(kIm2colThreads) * kIm2colPerThread;
constexpr int64_t kIm2colMaxGridX = 65535;
// How far past a row's end the 32-bit kernel's indices may run.
constexpr int64_t kIm2colHeadroom = kIm2colMaxGridX * kIm2colSpan;

template <typename src_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kIm2colThreads)
    im2col_kernel(const Im2colChunk<index_t> chunk, const Divider<index_t> by_band,
                  const Divider<index_t> by_width, const src_t* __restrict__ src,
                  col_t* __restrict__ columns) {
  const index_t length = chunk.row_length(), planes = chunk.planes();
  const index_t band = chunk.band_pixels(), in_w = chunk.w_axis.in_size;
  const index_t kernel_h = chunk.h_axis.kernel, kernel_w = chunk.w_axis.kernel;
  const index_t step = index_t(gridDim.x) * index_t(kIm2colSpan);
  for (index_t plane = blockIdx.y; plane < planes; plane += gridDim.y) {
    const index_t plane_src = im2col_plane_source(chunk, plane);
    col_t* plane_dst = columns + plane * chunk.taps() * length;
    for (index_t base = index_t(blockIdx.x) * index_t(kIm2colSpan); base < length; base += step) {
#pragma unroll
      for (int t = 0; t < kIm2colPerThread; ++t) {
        const index_t k = base + index_t(t * kIm2colThreads + threadIdx.x);
        if (k < length) {
          const index_t n = by_band.div(k), pixel = k - n * band;
          const index_t h = by_width.div(pixel), w = pixel - h * in_w;
          col_t* dst = plane_dst + k;
          for (index_t i = 0; i < kernel_h; ++i)
            for (index_t j = 0; j < kernel_w; ++j, dst += length)
              *dst = static_cast<col_t>(im2col_value(chunk, src, plane_src, i, j, n, h, w));
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
                  static_cast<unsigned>(std::min<int64_t>(65535, chunk.planes())));
  im2col_kernel<src_t, col_t, index_t>
      <<<grid, kIm2colThreads, 0, c10::cuda::getCurrentCUDAStream()>>>(
          chunk, Divider<index_t>(chunk.band_pixels()), Divider<index_t>(chunk.w_axis.in_size),
          src, columns);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
