#pragma once

// col2im on the GPU: one thread per work item (grid-stride), each gathering
// one output column segment of one stride phase through the shared
// col2im_column. Deterministic: no atomics, every output element is written
// by exactly one thread.
// - Plain order (channel-strided outputs, NCHW): consecutive threads take
//   consecutive output columns, so the loads of one tap and the stores are
//   coalesced.
// - Runs (taps that never overlap, plain order): one thread per run of rows
//   of one output column, each pixel one predicated load and one store.
// - Blocks (width-folded columns of <= 2 phases, plain order; col2im_block.h):
//   one thread per block of up to 16 output columns, each phase plane's run
//   one 16-byte load per row, whole blocks stored as vectors.
// - Tiled order (channel-fastest outputs, channels_last): a block takes one
//   tile of items; its warps still load along output columns, and each tile of
//   rows goes through shared memory to be stored channel-fastest, in runs of
//   channel_lanes elements instead of one element per C-strided address.

#include <ATen/AccumulateType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include <algorithm>
#include <cstdint>
#include <cstdlib>

#include "gemm_convt/col2im.h"
#include "gemm_convt/col2im_block.h"

namespace gemm_convt {

constexpr int kCol2imThreads = 256;
static_assert(kCol2imThreads == kCol2imTileItems, "a block computes one tile of items");

// The grid-stride loop over a launch's work items, item_fn(i) for each.
template <typename index_t, typename ItemFn>
__device__ __forceinline__ void for_each_item(index_t total, const ItemFn& item_fn) {
  const index_t step = index_t(blockDim.x) * index_t(gridDim.x);
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) item_fn(i);
}

template <typename scalar_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kCol2imThreads)
    col2im_kernel(const Col2imChunk<index_t> chunk, const col_t* __restrict__ columns,
                  const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  for_each_item(chunk.items(), [&](index_t i) { col2im_item_direct<acc_t>(chunk, columns, bias, out, i); });
}

template <typename scalar_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kCol2imThreads)
    col2im_runs_kernel(const Col2imChunk<index_t> chunk, const col_t* __restrict__ columns,
                       const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  for_each_item(chunk.items(), [&](index_t i) { col2im_run<acc_t>(chunk, columns, bias, out, i); });
}

// L column values as one 16-byte load (block_lanes), aligned to their size.
template <int L, typename col_t>
struct alignas(L * sizeof(col_t)) ColumnRun {
  col_t v[L];
};

// Runs for col2im_block on the GPU: one vector load per row, all of a tile's
// issued before the first add. Every run starts on a vector boundary
// (col2im_block_groups: strides in whole runs; the columns buffer starts on
// one).
struct VectorRuns {
  template <int L, typename acc_t, typename index_t, typename col_t>
  __device__ __forceinline__ void add(const col_t* src, index_t h_stride, int lo, int hi,
                                      acc_t (&acc)[kTileRows][L]) const {
    using Run = ColumnRun<L, col_t>;
    const Run* run = reinterpret_cast<const Run*>(src);
    const index_t run_stride = h_stride / L;
    Run values[kTileRows];
#pragma unroll
    for (int r = 0; r < kTileRows; ++r)
      if (r >= lo && r < hi) values[r] = run[r * run_stride];
#pragma unroll
    for (int r = 0; r < kTileRows; ++r) {
      if (r < lo || r >= hi) continue;
#pragma unroll
      for (int u = 0; u < L; ++u) acc[r][u] += static_cast<acc_t>(values[r].v[u]);
    }
  }
};

// A block's output values stored N at a time (16 bytes, or the whole block).
template <int N, typename out_t>
struct alignas(N * sizeof(out_t)) OutputRun {
  out_t v[N];
};

template <int G, int L, typename out_t>
constexpr int output_run_values() {
  return G * L * int(sizeof(out_t)) < 16 ? G * L : 16 / int(sizeof(out_t));
}

// Stores for col2im_block on the GPU: a whole block of a contiguous row as
// vectors where the host found the rows aligned (block_vector_stores), the
// scalar form otherwise (and at the row's end).
struct VectorBlockStore {
  template <int G, int L, typename acc_t, typename index_t, typename out_t>
  __device__ __forceinline__ void operator()(const Col2imChunk<index_t>& k, out_t* pixel, index_t oh0,
                                             index_t ow0, const acc_t (&acc)[G][kTileRows][L]) const {
    if (!k.block_vector_stores || ow0 + G * L > k.w.out_size) {
      store_block_scalar<G, L>(k, pixel, oh0, ow0, acc);
      return;
    }
    constexpr int N = output_run_values<G, L, out_t>();
    using Run = OutputRun<N, out_t>;
#pragma unroll
    for (int r = 0; r < kTileRows; ++r) {
      const index_t oh = oh0 + r * k.h.stride;
      if (oh < k.out_row_begin || oh >= k.out_row_end) continue;
      Run* dst = reinterpret_cast<Run*>(pixel + oh * k.out_stride_h);
#pragma unroll
      for (int part = 0; part < G * L / N; ++part) {
        Run values;
#pragma unroll
        for (int e = 0; e < N; ++e) {
          const int column = part * N + e;  // ow0 + column = ow0 + g + G*u
          values.v[e] = static_cast<out_t>(acc[column % G][r][column / G]);
        }
        dst[part] = values;
      }
    }
  }
};

template <typename scalar_t, typename col_t, typename index_t, int G>
__global__ void __launch_bounds__(kCol2imThreads)
    col2im_block_kernel(const Col2imChunk<index_t> chunk, const col_t* __restrict__ columns,
                        const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  constexpr int L = block_lanes(int(sizeof(col_t)), G);
  for_each_item(chunk.items(), [&](index_t i) {
    col2im_block<G, L, acc_t>(chunk, columns, bias, out, i, VectorRuns{}, VectorBlockStore{});
  });
}

// Shared-memory pitch of one tile row: an output column's channel_lanes sums
// plus one, so that neither the column-major writes nor the channel-major
// reads of a warp meet in a bank (for ow_lanes 16 and 32).
template <typename index_t>
__device__ __forceinline__ index_t tile_slot(const Col2imChunk<index_t>& k, index_t ow_lane,
                                             index_t c_lane) {
  return ow_lane * (k.channel_lanes + 1) + c_lane;
}
constexpr int kTileRowSlots = kCol2imTileItems + 32;  // >= ow_lanes * (channel_lanes + 1)

// store for col2im_column in the tiled kernel: the block's sums of one tile of
// rows pass through shared memory; thread t then stores output column
// t / channel_lanes, channel t % channel_lanes of the tile. Two buffers taken
// in turn, so one barrier per tile of rows suffices: a buffer is written again
// only after the barrier of the tile between, which each thread reaches after
// its reads of it.
template <typename acc_t, typename index_t, typename out_t>
struct Col2imTileStore {
  Col2imOwnedRows<index_t> rows;
  acc_t (*sums)[kTileRows][kTileRowSlots];  // [2]
  int buffer;            // the one the next tile of rows takes
  index_t compute_slot;  // where this thread's own sums go
  index_t store_slot;    // what it stores
  bool store_active;     // that pixel lies inside the output
  out_t* dst;            // that pixel in row 0

  __device__ __forceinline__ void operator()(index_t oh0, const acc_t (&acc)[kTileRows]) {
    acc_t(*tile)[kTileRowSlots] = sums[buffer];
    buffer ^= 1;
#pragma unroll
    for (int r = 0; r < kTileRows; ++r) tile[r][compute_slot] = acc[r];
    __syncthreads();
    if (store_active) rows.store(dst, oh0, [&](int r) { return tile[r][store_slot]; });
  }
};

template <typename scalar_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kCol2imThreads)
    col2im_tiled_kernel(const Col2imChunk<index_t> chunk, const col_t* __restrict__ columns,
                        const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  __shared__ acc_t sums[2][kTileRows][kTileRowSlots];
  const index_t lane = threadIdx.x;
  const index_t ow_lane = lane % chunk.ow_lanes, c_lane = lane / chunk.ow_lanes;
  const index_t store_ow_lane = lane / chunk.channel_lanes;
  const index_t store_c_lane = lane - store_ow_lane * chunk.channel_lanes;
  // One store for all the block's tiles, so its buffers keep alternating.
  Col2imTileStore<acc_t, index_t, scalar_t> store{
      col2im_owned_rows(chunk), sums, 0, tile_slot(chunk, ow_lane, c_lane),
      tile_slot(chunk, store_ow_lane, store_c_lane), false, out};
  const index_t tiles = chunk.items() / kCol2imTileItems;
  for (index_t tile = blockIdx.x; tile < tiles; tile += gridDim.x) {  // block-uniform
    const Col2imItem<index_t> it = col2im_item(chunk, tile * kCol2imTileItems + lane);
    Col2imItem<index_t> stored = it;  // the pixel this thread stores
    stored.ow = it.ow - ow_lane + store_ow_lane;
    stored.c = it.c - c_lane + store_c_lane;
    store.store_active = col2im_item_active(chunk, stored);
    store.dst = col2im_item_pixel(chunk, out, stored);
    col2im_column<acc_t>(chunk, columns, bias, it, col2im_item_active(chunk, it), store);
  }
}

// Threads per block of the block kernel (GEMM_CONVT_COL2IM_BLOCK_THREADS for
// probes): its items cover up to 16 output columns, so a chunk has fewer of
// them to spread over the SMs.
inline int col2im_block_threads() {
  static const int threads = [] {
    const char* v = std::getenv("GEMM_CONVT_COL2IM_BLOCK_THREADS");
    const int t = v ? std::atoi(v) : 128;
    return (t == 32 || t == 64 || t == 128 || t == 256) ? t : 128;
  }();
  return threads;
}

template <typename scalar_t, typename col_t, typename index_t>
void launch_col2im(const Col2imChunk<index_t>& chunk, const col_t* columns,
                   const scalar_t* bias, scalar_t* out, int64_t blocks) {
  const auto stream = c10::cuda::getCurrentCUDAStream();
  if (chunk.block_groups > 0) {
    const int threads = col2im_block_threads();
    const int64_t items = chunk.items();
    const auto grid = static_cast<unsigned>(std::max<int64_t>(
        1, std::min<int64_t>((items + threads - 1) / threads, blocks * kCol2imThreads / threads)));
    if (chunk.block_groups == 1)
      col2im_block_kernel<scalar_t, col_t, index_t, 1>
          <<<grid, threads, 0, stream>>>(chunk, columns, bias, out);
    else
      col2im_block_kernel<scalar_t, col_t, index_t, 2>
          <<<grid, threads, 0, stream>>>(chunk, columns, bias, out);
  } else if (chunk.tiled())
    col2im_tiled_kernel<scalar_t, col_t, index_t>
        <<<static_cast<unsigned>(blocks), kCol2imThreads, 0, stream>>>(chunk, columns, bias, out);
  else if (chunk.runs)
    col2im_runs_kernel<scalar_t, col_t, index_t>
        <<<static_cast<unsigned>(blocks), kCol2imThreads, 0, stream>>>(chunk, columns, bias, out);
  else
    col2im_kernel<scalar_t, col_t, index_t>
        <<<static_cast<unsigned>(blocks), kCol2imThreads, 0, stream>>>(chunk, columns, bias, out);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
