#include "pack.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <limits>

#include "gemm_convt/divider.h"

namespace gemm_convt {
namespace {

constexpr int kPackThreads = 256;

// One thread per unit of the packed output (grid-stride), consecutive threads
// on consecutive units: runs of a few hundred bytes (dcgan: 256) still fill
// whole warps. The unit's run and position come from multiply-shift divisions.
template <typename unit_t, typename index_t>
__global__ void __launch_bounds__(kPackThreads)
    pack_runs_kernel(const unit_t* __restrict__ src, Divider<index_t> by_samples,
                     Divider<index_t> by_run_units, index_t sample_units, index_t channel_units,
                     index_t total, unit_t* __restrict__ dst) {
  const index_t step = index_t(blockDim.x) * index_t(gridDim.x);
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const index_t r = by_run_units.div(i), u = i - r * by_run_units.divisor;
    const index_t c = by_samples.div(r), n = r - c * by_samples.divisor;
    dst[i] = src[n * sample_units + c * channel_units + u];
  }
}

template <typename unit_t, typename index_t>
void launch(const void* src, int64_t samples, int64_t runs, int64_t sample_bytes,
            int64_t channel_bytes, int64_t run_bytes, int64_t blocks, void* dst) {
  const int64_t unit = sizeof(unit_t), run_units = run_bytes / unit;
  pack_runs_kernel<unit_t, index_t>
      <<<static_cast<unsigned>(blocks), kPackThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
          static_cast<const unit_t*>(src), Divider<index_t>(index_t(samples)),
          Divider<index_t>(index_t(run_units)), index_t(sample_bytes / unit),
          index_t(channel_bytes / unit), index_t(runs * run_units), static_cast<unit_t*>(dst));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

template <typename unit_t>
void launch_indexed(const void* src, int64_t samples, int64_t channels, int64_t sample_bytes,
                    int64_t channel_bytes, int64_t run_bytes, void* dst) {
  const int64_t unit = sizeof(unit_t), runs = samples * channels, total = runs * (run_bytes / unit);
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t blocks = std::min<int64_t>((total + kPackThreads - 1) / kPackThreads, sms * 32);
  // Largest index formed, in units: the last source unit, or the grid-stride
  // loop's index one step past the last output unit.
  const int64_t reach = std::max(total + blocks * kPackThreads,
                                 ((samples - 1) * sample_bytes + (channels - 1) * channel_bytes +
                                  run_bytes) / unit);
  if (reach <= std::numeric_limits<int32_t>::max())
    launch<unit_t, int32_t>(src, samples, runs, sample_bytes, channel_bytes, run_bytes, blocks, dst);
  else
    launch<unit_t, int64_t>(src, samples, runs, sample_bytes, channel_bytes, run_bytes, blocks, dst);
}

}  // namespace

void pack_runs_cuda(const void* src, int64_t samples, int64_t channels, int64_t sample_bytes,
                    int64_t channel_bytes, int64_t run_bytes, void* dst) {
  if (samples * channels == 0 || run_bytes == 0) return;
  // The widest unit dividing every size and both addresses.
  const uint64_t all = uint64_t(sample_bytes) | uint64_t(channel_bytes) | uint64_t(run_bytes) |
                       reinterpret_cast<uintptr_t>(src) | reinterpret_cast<uintptr_t>(dst);
  if (all % 16 == 0)
    launch_indexed<uint4>(src, samples, channels, sample_bytes, channel_bytes, run_bytes, dst);
  else if (all % 8 == 0)
    launch_indexed<uint2>(src, samples, channels, sample_bytes, channel_bytes, run_bytes, dst);
  else if (all % 4 == 0)
    launch_indexed<uint32_t>(src, samples, channels, sample_bytes, channel_bytes, run_bytes, dst);
  else if (all % 2 == 0)
    launch_indexed<uint16_t>(src, samples, channels, sample_bytes, channel_bytes, run_bytes, dst);
  else
    launch_indexed<uint8_t>(src, samples, channels, sample_bytes, channel_bytes, run_bytes, dst);
}

}  // namespace gemm_convt
