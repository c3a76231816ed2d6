#pragma once

// Side streams shared by the forward's double buffering and the backward's
// grad_bias reduction.

#include <c10/cuda/CUDAStream.h>

#include <cstdint>
#include <vector>

namespace gemm_convt {

std::vector<c10::cuda::CUDAStream> side_streams(int64_t count);

}  // namespace gemm_convt
