#pragma once

// Division by a divisor fixed for a whole kernel launch, without the GPU's
// slow integer division: the host precomputes a multiplier and a shift
// (Granlund & Montgomery, "Division by invariant integers using
// multiplication", 1994), the device does one multiply-high, an add and a
// shift. Exact for dividends below 2^31, which is what the 32-bit kernels
// use; 64-bit kernels divide plainly.

#include <cstdint>

#include "gemm_convt/macros.h"

namespace gemm_convt {

template <typename index_t>
struct Divider {  // 64-bit indices: plain division
  index_t divisor;
  Divider() = default;
  explicit Divider(index_t d) : divisor(d < 1 ? 1 : d) {}  // empty extents: never used
  GEMM_CONVT_HD index_t div(index_t n) const { return n / divisor; }
};

template <>
struct Divider<int32_t> {
  int32_t divisor;
  uint32_t multiplier, shift;

  Divider() = default;
  explicit Divider(int32_t d) : divisor(d < 1 ? 1 : d), shift(0) {
    d = divisor;  // empty extents: never used
    while ((uint64_t(1) << shift) < uint64_t(d)) ++shift;  // ceil(log2 d)
    multiplier = uint32_t(((uint64_t(1) << 32) * ((uint64_t(1) << shift) - uint64_t(d))) /
                              uint64_t(d) + 1);
  }
  // n in [0, 2^31): hi <= n, so hi + n does not wrap.
  GEMM_CONVT_HD int32_t div(int32_t n) const {
    const uint32_t u = uint32_t(n);
#if defined(__CUDA_ARCH__)
    const uint32_t hi = __umulhi(u, multiplier);
#else
    const uint32_t hi = uint32_t((uint64_t(u) * multiplier) >> 32);
#endif
    return int32_t((hi + u) >> shift);
  }
};

}  // namespace gemm_convt
