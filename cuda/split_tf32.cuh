#pragma once

// float32 at tensor-core speed: x = hi + lo with hi the TF32 rounding of x and
// lo the (exact) float32 remainder. One TF32 GEMM over operands stacked along
// K contracts x_hi·w_hi + x_hi·w_lo + x_lo·w_hi: the dropped lo·lo term and
// the TF32 truncation of lo leave a relative error near 2^-21 per product,
// float32-class (the GEMM accumulates in float32).

#include <ATen/ATen.h>

#include <cstdint>

namespace gemm_convt {

// Source of a split: element (s, g, k, p) at base + s*ss + g*sg + k*sk + p*sp
// (float elements). The destination is dense [s][g][3][k][p]; `order` names
// which of hi/lo lands in each of the three K blocks.
struct SplitSource {
  const float* base;
  int64_t samples, groups, k, p;
  int64_t ss, sg, sk, sp;
};
enum class SplitOrder { input /* hi, hi, lo */, weight /* hi, lo, hi */ };

// On torch's current stream.
void split_tf32_cuda(const SplitSource& src, SplitOrder order, float* dst);

}  // namespace gemm_convt
