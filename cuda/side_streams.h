#pragma once

// The side streams our chunk loops run on (the forward's one per columns
// buffer), cached per device.

#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>
#include <c10/cuda/CUDAStream.h>

#include <cstdint>
#include <vector>

namespace gemm_convt {

std::vector<c10::cuda::CUDAStream> side_streams(int64_t count);

// While alive, work is enqueued on side stream 0, after the work enqueued so far
// on the stream current at construction, which waits for it at destruction.
// Loops of cuBLAS calls run there so that those calls can be replayed from
// graphs (gemm_graphs.h), which the legacy default stream does not allow.
class OnSideStream {
 public:
  OnSideStream();
  ~OnSideStream();
  OnSideStream(const OnSideStream&) = delete;
  OnSideStream& operator=(const OnSideStream&) = delete;

 private:
  c10::cuda::CUDAStream origin_;
  c10::cuda::CUDAStream side_;
  c10::cuda::CUDAStreamGuard guard_;
};

}  // namespace gemm_convt
