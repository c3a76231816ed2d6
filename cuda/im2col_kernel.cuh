#pragma once

// im2col of grad_output on the GPU. Blocks take planes (group, channel: grid
// y) and spans of (sample, band pixel) positions (grid x); each thread makes
// every kernel tap's value at kIm2colPerThread positions of its plane. No atomics.
// - Channel-strided grad_output (NCHW): a block takes one plane, its threads
//   consecutive positions kIm2colThreads apart per step: the stores of each
//   column row are coalesced, and the loads read overlapping windows of
//   grad_output, which L1 serves (each value comes from L2 about once).
// - Channel-fastest grad_output (channels_last) with at least sizeof(col_t)
//   planes: a block takes sizeof(col_t) planes (4 for float32), its threads
//   with the plane fastest, so one warp stores each of its planes' column rows
//   as one whole 32-byte sector (8 float32 positions), and loads runs of
//   channels (not 32 pixels C elements apart).
// The (sample, row, column) of a position comes from two precomputed
// divisions (divider.h).

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

// Plane lanes per block: 1, or kPlaneLanes = sizeof(col_t) for channel-fastest grad_output.
template <typename col_t, typename index_t>
inline int im2col_plane_lanes(const Im2colChunk<index_t>& chunk) {
  constexpr int lanes = int(sizeof(col_t));
  return chunk.src_stride_c == 1 && chunk.planes() >= lanes ? lanes : 1;
}

template <typename src_t, typename col_t, typename index_t, int kPlaneLanes>
__global__ void __launch_bounds__(kIm2colThreads)
    im2col_kernel(const Im2colChunk<index_t> chunk, const Divider<index_t> by_band,
                  const Divider<index_t> by_width, const src_t* __restrict__ src,
                  col_t* __restrict__ columns) {
  constexpr int kPositionLanes = kIm2colThreads / kPlaneLanes;
  constexpr int kSpan = kPositionLanes * kIm2colPerThread;  // positions per block and plane
  const index_t length = chunk.row_length(), planes = chunk.planes();
  const index_t band = chunk.band_pixels(), in_w = chunk.w_axis.in_size;
  const index_t kernel_h = chunk.h_axis.kernel, kernel_w = chunk.w_axis.kernel;
  const index_t plane_lane = threadIdx.x % kPlaneLanes, position_lane = threadIdx.x / kPlaneLanes;
  const index_t step = index_t(gridDim.x) * index_t(kSpan);
  for (index_t plane0 = index_t(blockIdx.y) * kPlaneLanes; plane0 < planes;
       plane0 += index_t(gridDim.y) * kPlaneLanes) {
    const index_t plane = plane0 + plane_lane;
    if (plane >= planes) continue;
    const index_t plane_src = im2col_plane_source(chunk, plane);
    col_t* plane_dst = columns + plane * chunk.taps() * length;
    for (index_t base = index_t(blockIdx.x) * index_t(kSpan); base < length; base += step) {
#pragma unroll
      for (int t = 0; t < kIm2colPerThread; ++t) {
        const index_t k = base + index_t(t * kPositionLanes) + position_lane;
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
  const int plane_lanes = im2col_plane_lanes<col_t>(chunk);
  const int64_t span = kIm2colSpan / plane_lanes;  // the kernel's kSpan
  const dim3 grid(static_cast<unsigned>(std::min(kIm2colMaxGridX, (length + span - 1) / span)),
                  static_cast<unsigned>(std::min<int64_t>(
                      65535, (chunk.planes() + plane_lanes - 1) / plane_lanes)));
  const auto stream = c10::cuda::getCurrentCUDAStream();
  const Divider<index_t> by_band(chunk.band_pixels()), by_width(chunk.w_axis.in_size);
  if (plane_lanes == 1)
    im2col_kernel<src_t, col_t, index_t, 1>
        <<<grid, kIm2colThreads, 0, stream>>>(chunk, by_band, by_width, src, columns);
  else
    im2col_kernel<src_t, col_t, index_t, int(sizeof(col_t))>
        <<<grid, kIm2colThreads, 0, stream>>>(chunk, by_band, by_width, src, columns);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
