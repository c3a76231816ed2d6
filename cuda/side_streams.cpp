#include "side_streams.h"

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>

#include <algorithm>
#include <map>

namespace gemm_convt {

struct DeviceSide {
  std::vector<c10::cuda::CUDAStream> streams;
  std::mutex enqueue;  // SideStreamLock's
};

namespace {

constexpr int64_t kSideStreams = 2;

// Kept for the process (never destroyed, as torch keeps its pool streams):
// cuBLAS gets a workspace for each stream it runs on (32 MiB on sm90), so fresh
// streams per call pinned one each (+1087 MiB after 18 dcgan calls, NOTES.md).
// Our own streams rather than torch's pool: the pool hands the same streams to
// other code (torch.cuda.Stream()), whose launches could land in a capture.
DeviceSide& device_side(c10::DeviceIndex device) {
  static std::mutex mutex;
  static std::map<c10::DeviceIndex, DeviceSide> sides;
  std::lock_guard<std::mutex> lock(mutex);
  DeviceSide& side = sides[device];
  while (int64_t(side.streams.size()) < kSideStreams) {
    const c10::cuda::CUDAGuard on_device(device);
    cudaStream_t s = nullptr;
    C10_CUDA_CHECK(cudaStreamCreateWithFlags(&s, cudaStreamNonBlocking));
    side.streams.push_back(c10::cuda::getStreamFromExternal(s, device));
  }
  return side;
}

// The device whose side streams this thread holds the lock of, and their
// streams (a DeviceSide's streams never change once made, and the map keeps
// it in place, so they are read without the map's mutex).
thread_local int g_locked_device = -1;
thread_local const DeviceSide* g_locked_side = nullptr;

c10::cuda::CUDAStream side_after(const c10::cuda::CUDAStream& origin) {
  c10::cuda::CUDAStream side = side_streams(1)[0];
  at::cuda::CUDAEvent start;
  start.record(origin);
  start.block(side);
  return side;
}

}  // namespace

std::vector<c10::cuda::CUDAStream> side_streams(int64_t count) {
  TORCH_CHECK(count >= 1 && count <= kSideStreams, "gemm_convt: at most ", kSideStreams,
              " side streams, but ", count, " were asked for");
  const DeviceSide& side = device_side(c10::cuda::current_device());
  return std::vector<c10::cuda::CUDAStream>(side.streams.begin(), side.streams.begin() + count);
}

SideStreamLock::SideStreamLock() : previous_(g_locked_device), previous_side_(g_locked_side) {
  const c10::DeviceIndex device = c10::cuda::current_device();
  if (previous_ != device) {
    DeviceSide& side = device_side(device);
    lock_ = std::unique_lock<std::mutex>(side.enqueue);
    g_locked_side = &side;
  }
  g_locked_device = device;
}

SideStreamLock::~SideStreamLock() {
  g_locked_device = previous_;
  g_locked_side = previous_side_;
}

bool side_stream_held(cudaStream_t stream) {
  if (g_locked_side == nullptr || g_locked_device != c10::cuda::current_device()) return false;
  const std::vector<c10::cuda::CUDAStream>& streams = g_locked_side->streams;
  return std::any_of(streams.begin(), streams.end(),
                     [&](const c10::cuda::CUDAStream& s) { return s.stream() == stream; });
}

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
