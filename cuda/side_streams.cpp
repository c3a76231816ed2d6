#include "side_streams.h"

#include <map>
#include <mutex>

namespace gemm_convt {

std::vector<c10::cuda::CUDAStream> side_streams(int64_t count) {
  static std::mutex mutex;
  static std::map<c10::DeviceIndex, std::vector<c10::cuda::CUDAStream>> cache;
  const c10::DeviceIndex device = c10::cuda::current_device();
  std::lock_guard<std::mutex> lock(mutex);
  std::vector<c10::cuda::CUDAStream>& streams = cache[device];
  while (int64_t(streams.size()) < count)
    streams.push_back(c10::cuda::getStreamFromPool(/*isHighPriority=*/false, device));
  return std::vector<c10::cuda::CUDAStream>(streams.begin(), streams.begin() + count);
}

}  // namespace gemm_convt
