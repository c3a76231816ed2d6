#pragma once

// What torch's caching allocator holds for one request (c10/cuda/CUDACachingAllocator.cpp),
// so that workspace plans keep the peak it reports within the cap. Requests up to 1 MiB come
// from the small pool in 512-byte units. Larger ones get a segment rounded up to 2 MiB (from
// 10 MiB on; below that a 20 MiB segment, split), and a block is not split for a remainder of
// 1 MiB or less: a 27 MiB request holds a 28 MiB block, and the allocated-bytes statistics
// count all of it (session 34: dcgan's two 27 MiB buffers read as 56 MiB).

#include <cstdint>

namespace gemm_convt {

constexpr int64_t kAllocatorSmallRequest = int64_t(1) << 20;
constexpr int64_t kAllocatorSegment = int64_t(2) << 20;

// The bytes a fresh or same-size request holds. A cached block left by other work may still
// add up to 1 MiB to a large one (not modelled).
inline int64_t allocator_held_bytes(int64_t bytes) {
  if (bytes <= 0) return 0;
  if (bytes <= kAllocatorSmallRequest) return (bytes + 511) / 512 * 512;
  const int64_t segment = (bytes + kAllocatorSegment - 1) / kAllocatorSegment * kAllocatorSegment;
  const int64_t rounded = (bytes + 511) / 512 * 512;
  return segment - rounded <= kAllocatorSmallRequest ? segment : rounded;
}

}  // namespace gemm_convt
