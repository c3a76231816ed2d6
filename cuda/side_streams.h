#pragma once

// Streams beside the caller's, for work that overlaps within one call.

#include <c10/cuda/CUDAStream.h>

#include <cstdint>
#include <vector>

namespace gemm_convt {

// The current device's first `count` side streams, taken from torch's pool
// once per process and reused: cuBLAS gets a workspace from the caching
// allocator for each stream it runs on (32 MiB on sm90), so fresh pool
// streams per call pinned one per pool stream (+1087 MiB after 18 dcgan
// calls, NOTES.md).
std::vector<c10::cuda::CUDAStream> side_streams(int64_t count);

}  // namespace gemm_convt
