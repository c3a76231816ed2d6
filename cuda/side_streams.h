#pragma once

// The side streams our chunk loops run on (the forward's one per columns
// buffer): created for this library alone, two per device, shared by every
// thread. A thread enqueues on them only while it holds the device's
// SideStreamLock, so that a GEMM graph captured there (gemm_graphs.h) holds
// that thread's call and nothing another thread launched meanwhile.

#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <cstdint>
#include <mutex>
#include <vector>

namespace gemm_convt {

std::vector<c10::cuda::CUDAStream> side_streams(int64_t count);

// One device's side streams and the lock over them (side_streams.cpp).
struct DeviceSide;

// One thread at a time enqueues on the current device's side streams.
class SideStreamLock {
 public:
  SideStreamLock();
  ~SideStreamLock();
  SideStreamLock(const SideStreamLock&) = delete;
  SideStreamLock& operator=(const SideStreamLock&) = delete;

 private:
  std::unique_lock<std::mutex> lock_;
  int previous_;                     // the device whose lock this thread held before (nesting)
  const DeviceSide* previous_side_;  // and its streams
};

// Whether `stream` is one of the current device's side streams and this thread
// holds their lock: only then may a GEMM on it be captured.
bool side_stream_held(cudaStream_t stream);

// While alive, work is enqueued on side stream 0 (its lock held), after the work
// enqueued so far on the stream current at construction, which waits for it at
// destruction. Loops of cuBLAS calls run there so that those calls can be
// replayed from graphs, which the legacy default stream does not allow.
class OnSideStream {
 public:
  OnSideStream();
  ~OnSideStream();
  OnSideStream(const OnSideStream&) = delete;
  OnSideStream& operator=(const OnSideStream&) = delete;

 private:
  SideStreamLock lock_;
  c10::cuda::CUDAStream origin_;
  c10::cuda::CUDAStream side_;
  c10::cuda::CUDAStreamGuard guard_;
};

}  // namespace gemm_convt
