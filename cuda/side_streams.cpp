#include "side_streams.h"

#include <c10/cuda/CUDAFunctions.h>

#include <map>
#include <mutex>

namespace gemm_convt {

// The current device's side streams, taken from torch's pool once per process
// and reused: cuBLAS gets a workspace from the caching allocator for each
// stream it runs on (32 MiB on sm90), so fresh pool streams per call pinned
// one per pool stream (+1087 MiB after 18 dcgan calls, NOTES.md).
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

namespace {

c10::cuda::CUDAStream side_after(const c10::cuda::CUDAStream& origin) {
  c10::cuda::CUDAStream side = side_streams(1)[0];
  at::cuda::CUDAEvent start;
  start.record(origin);
  start.block(side);
  return side;
}

}  // namespace

OnSideStream::OnSideStream()
    : origin_(c10::cuda::getCurrentCUDAStream()), side_(side_after(origin_)), guard_(side_) {}

OnSideStream::~OnSideStream() {
  try {
    at::cuda::CUDAEvent done;
    done.record(side_);
    done.block(origin_);
  } catch (...) {
    // Only a broken CUDA context fails here; the call reports that itself.
  }
}

}  // namespace gemm_convt
