#pragma once

// The forward's side streams (one per columns buffer), cached per device.

#include <c10/cuda/CUDAStream.h>

#include <cstdint>
#include <vector>

namespace gemm_convt {

std::vector<c10::cuda::CUDAStream> side_streams(int64_t count);

}  // namespace gemm_convt
