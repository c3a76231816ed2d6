#pragma once

// The split TF32 GEMM's operands (float32 at tensor-core speed), made per
// chunk (the input) and per call (the weight): x = hi + lo with hi the TF32
// rounding of x and lo the exact float32 remainder, stacked along K so that
// one TF32 GEMM contracts x_hi·w_hi + x_hi·w_lo + x_lo·w_hi. The dropped lo·lo
// term and the TF32 truncation of lo leave a relative error near 2^-21 per
// product: float32-class (the GEMM accumulates in float32).

#include <ATen/ATen.h>

#include <cstdint>

namespace gemm_convt {

// Element (s, g, k, r, x) of the source at base + s*ss + g*sg + k*sk + r*sr + x*sx.
// Width folding's unfold (fold_operand.cuh) reads its input the same way.
struct OperandSource {
  const void* base;
  int64_t samples, groups, k, rows;
  int64_t ss, sg, sk, sr, sx;
};

// Which of hi / lo each of the three K blocks holds (A and B pair up).
enum class SplitOrder { input /* hi, hi, lo */, weight /* hi, lo, hi */ };

// dst, dense float32 [samples][groups][3][k][rows][width]: the three parts
// of source(s, g, k, r, x) in `order`. On torch's current stream.
void make_split_operand_cuda(const OperandSource& src, int64_t width, SplitOrder order, void* dst);

}  // namespace gemm_convt
