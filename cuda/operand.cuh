#pragma once

// The split TF32 GEMM's operands (float32 at tensor-core speed), made per
// chunk (the input) and per call (the weight): x = hi + lo with hi the TF32
// rounding of x and lo the exact float32 remainder (ptx.cuh's tf32_parts),
// stacked along K so that one TF32 GEMM contracts x_lo·w_hi + x_hi·w_lo +
// x_hi·w_hi (the cross products on the parts' cross, 0 for a non-finite
// value, so that inf and NaN propagate as in torch). The dropped lo·lo
// term and the TF32 truncation of lo leave a relative error near 2^-21 per
// product; the tensor cores' float32 accumulation adds an error that grows
// with K (~1e-6 against float64 at K = 1-3 thousand: float32-class, not IEEE).

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
// The cross products come first: stock TF32 GEMMs accumulate K in order, and
// with x_hi·w_hi last the error against float64 measured 4x lower on an H100
// (5.3e-6 -> 1.2e-6 at K = 512 in scripts/split_accuracy_probe.py; dcgan's
// folded split 4.4e-6 -> 1.0e-6: NOTES.md session 26).
enum class SplitOrder { input /* lo, cross, hi */, weight /* cross, lo, hi */ };

// dst, dense float32 [samples][groups][3][k][rows][width]: the three parts
// of source(s, g, k, r, x) in `order`. On torch's current stream.
void make_split_operand_cuda(const OperandSource& src, int64_t width, SplitOrder order, void* dst);

}  // namespace gemm_convt
