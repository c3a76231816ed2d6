#pragma once

// col2im over band tiles on the GPU (include/gemm_convt/col2im_bands.h; sm90):
// a persistent grid, each block taking tiles blockIdx.x, + gridDim.x, ...
// Its first warp stages a tile's runs into shared memory with the bulk copy
// engine (whole 16-byte units around each run: the columns buffer has 16
// bytes after its end), completing on one of two mbarriers, while the block
// sums the tile before from the other stage. Same sums as the item walk, so
// the same bits.

#include <ATen/AccumulateType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <array>
#include <atomic>
#include <cstdint>

#include "gemm_convt/col2im_bands.h"
#include "ptx.cuh"

namespace gemm_convt {

// Shared memory ahead of the two stages: their mbarriers.
constexpr int kBandBarrierBytes = 128;

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
// The bytes staged for a run: its 16-byte units, from the one it starts in.
template <typename col_t>
__device__ __forceinline__ uint32_t band_run_bytes(const BandRun<col_t>& run) {
  return uint32_t(((run.lead + run.count) * int64_t(sizeof(col_t)) + kBandAlignBytes - 1) &
                  ~int64_t(kBandAlignBytes - 1));
}

// Warp 0: tile `tile`'s runs into `staging`, completing on bar.
template <typename index_t, typename col_t>
__device__ __forceinline__ void stage_band(const Col2imChunk<index_t>& k, const col_t* columns,
                                           index_t tile, col_t* staging, uint64_t* bar) {
  const int lane = threadIdx.x;  // < 32
  const BandTile<index_t> t = band_tile(k, tile);
  const index_t runs = t.channels * k.h.kernel * k.w.kernel;
  uint32_t bytes = 0;
  for (index_t r = lane; r < runs; r += 32) {
    const BandRun<col_t> run = band_run(k, columns, t, r);
    if (run.count > 0) bytes += band_run_bytes(run);
  }
  bytes = __reduce_add_sync(0xffffffffu, bytes);
  if (lane == 0) mbarrier_arrive_expect(bar, bytes);
  // The stage was last read through the generic proxy;
  // the block's barrier ordered those before this point, this orders them
  // before the copy engine's writes.
  asm volatile("fence.proxy.async.shared::cta;" ::: "memory");
  __syncwarp();
  for (index_t r = lane; r < runs; r += 32) {
    const BandRun<col_t> run = band_run(k, columns, t, r);
    if (run.count > 0) bulk_copy_to_shared(staging + run.slot, run.src - run.lead, band_run_bytes(run), bar);
  }
}
#endif

// Blocks a multiprocessor is meant to hold (four stages' worth of shared
// memory fit an H100's): registers capped to match, so that the persistent
// grid is resident at once.
constexpr int kBandBlocksPerSM = 4;

template <typename scalar_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kBandThreads, kBandBlocksPerSM)
    col2im_bands_kernel(const Col2imChunk<index_t> k, const col_t* __restrict__ columns,
                        const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  extern __shared__ __align__(128) unsigned char band_shared[];
  uint64_t* full = reinterpret_cast<uint64_t*>(band_shared);  // [2], one per stage
  col_t* stages = reinterpret_cast<col_t*>(band_shared + kBandBarrierBytes);
  const index_t stage_values = k.band_channels * k.h.kernel * k.w.kernel * k.band_slot;
  const index_t tiles = band_tiles(k);
  if (threadIdx.x == 0) {
    mbarrier_init(&full[0], 1);
    mbarrier_init(&full[1], 1);
  }
  __syncthreads();
  if (threadIdx.x < 32 && index_t(blockIdx.x) < tiles)
    stage_band(k, columns, index_t(blockIdx.x), stages, &full[0]);
  uint32_t use = 0;
  for (index_t tile = blockIdx.x; tile < tiles; tile += gridDim.x, ++use) {
    const index_t next = tile + index_t(gridDim.x);
    if (threadIdx.x < 32 && next < tiles)
      stage_band(k, columns, next, stages + ((use + 1) & 1) * stage_values, &full[(use + 1) & 1]);
    mbarrier_wait(&full[use & 1], (use >> 1) & 1);
    const col_t* staging = stages + (use & 1) * stage_values;
    const BandTile<index_t> t = band_tile(k, tile);
    const index_t items = band_items(k, t);
    for (index_t u = threadIdx.x; u < items; u += kBandThreads)
      band_item<acc_t>(k, t, columns, staging, bias, out, u);
    __syncthreads();  // this stage is free for the tile after next
  }
#else
  __trap();  // never launched: col2im_bands_supported
#endif
}

inline int64_t band_shared_bytes(const Col2imChunk<int64_t>& k, int64_t column_bytes) {
  return kBandBarrierBytes + 2 * k.band_channels * k.h.kernel * k.w.kernel * k.band_slot * column_bytes;
}

// Most shared memory a block takes: above the 48 KB a kernel gets unasked.
constexpr int kBandMaxSharedBytes = kBandBarrierBytes + 2 * int(kBandStageBytes);

template <typename kernel_t>
bool band_kernel_ready(kernel_t kernel) {
  cudaFuncAttributes attr{};
  const bool ok = cudaFuncGetAttributes(&attr, kernel) == cudaSuccess && attr.binaryVersion >= 90 &&
                  attr.ptxVersion >= 90 &&
                  cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                       kBandMaxSharedBytes) == cudaSuccess;
  (void)cudaGetLastError();  // a failed query leaves no error behind
  return ok;
}

// Whether this build runs the band kernel on the current device (machine code
// or PTX for sm90 or later), and its shared-memory limit raised there: once
// per device.
template <typename scalar_t, typename col_t>
bool col2im_bands_supported(int device) {
  static std::array<std::atomic<int>, 64> known{};  // 0 unknown, 1 yes, 2 no
  if (device < 0 || device >= int(known.size())) return false;
  int v = known[device].load();
  if (v == 0) {
    const bool ok = band_kernel_ready(col2im_bands_kernel<scalar_t, col_t, int32_t>) &&
                    band_kernel_ready(col2im_bands_kernel<scalar_t, col_t, int64_t>);
    v = ok ? 1 : 2;
    known[device].store(v);
  }
  return v == 1;
}

template <typename scalar_t, typename col_t, typename index_t>
void launch_col2im_bands(const Col2imChunk<index_t>& chunk, const col_t* columns,
                         const scalar_t* bias, scalar_t* out, int64_t shared_bytes,
                         int multiprocessors, int64_t shared_per_multiprocessor) {
  const auto kernel = col2im_bands_kernel<scalar_t, col_t, index_t>;
  // Blocks a multiprocessor holds at once (registers, shared memory): the
  // persistent grid must be resident, not run in waves.
  thread_local int64_t known_shared = -1, known_per_sm = 1;
  if (shared_bytes != known_shared) {
    int per_sm = 1;
    if (cudaOccupancyMaxActiveBlocksPerMultiprocessor(&per_sm, kernel, kBandThreads, size_t(shared_bytes)) !=
        cudaSuccess) {
      (void)cudaGetLastError();
      per_sm = int(std::max<int64_t>(1, shared_per_multiprocessor / (shared_bytes + 1024)));
    }
    known_shared = shared_bytes, known_per_sm = std::max(1, per_sm);
  }
  const int64_t per_sm = known_per_sm;
  const int64_t tiles = band_tiles(chunk);
  const auto grid = static_cast<unsigned>(std::max<int64_t>(1, std::min(tiles, per_sm * multiprocessors)));
  kernel<<<grid, kBandThreads, shared_bytes, c10::cuda::getCurrentCUDAStream()>>>(chunk, columns,
                                                                               bias, out);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
