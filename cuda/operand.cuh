#pragma once

// The GEMM's A (or B) operand made per chunk, when the columns GEMM cannot read
// the tensor in place:
// - width folding: the input unfolded along w, unfolded[(ci, j)][h][ow] =
//   input[ci][h][tap_source(ow, j)] (0 where the tap reads nothing);
// - split TF32 (float32 at tensor-core speed): x = hi + lo with hi the TF32
//   rounding of x and lo the exact float32 remainder, stacked along K so that
//   one TF32 GEMM contracts x_hi·w_hi + x_hi·w_lo + x_lo·w_hi. The dropped lo·lo
//   term and the TF32 truncation of lo leave a relative error near 2^-21 per
//   product: float32-class (the GEMM accumulates in float32).
// Both at once where both apply: one pass over the input.

#include <ATen/ATen.h>

#include <cstdint>

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// Element (s, g, k, r, x) of the source at base + s*ss + g*sg + k*sk + r*sr + x*sx.
struct OperandSource {
  const void* base;
  int64_t samples, groups, k, rows;
  int64_t ss, sg, sk, sr, sx;
};

// Which of hi / lo each of the three K blocks holds (A and B pair up).
enum class SplitOrder { none, input /* hi, hi, lo */, weight /* hi, lo, hi */ };

// dst, dense [samples][groups][parts][k][axis.kernel][rows][axis.out_size] with
// parts = 3 when split, else 1: value = source(s, g, k, r, tap_source(axis, o, j)).
// For a plain copy or split, axis is folded_axis(width) (one tap, o -> o).
// On torch's current stream; split needs float32.
void make_operand_cuda(at::ScalarType dtype, const OperandSource& src, const Axis<int64_t>& axis,
                       SplitOrder order, void* dst);

}  // namespace gemm_convt
