#pragma once

// Width folding's GEMM operands (problem.h's ColumnsShape, geometry.h's
// WidthFold), made per call (B) and per chunk (A), both K-major with
// K = (slot t, input channel ci) so that cuBLAS takes its sm90 kernels
// ("TN"; an M-major unfold kept it on sm80 ones at ~2/3 the rate: NOTES.md):
//   A[g][r][(n, row, m)][t * in_per_group + ci] = input(n, ci of g, row, fold_source(r, t, m))
//   B[g][r][(c, i)][t * in_per_group + ci] = weight[ci of g][c][i][fold_tap(r, t)]
// and 0 where the slot has no tap or reads outside the input.

#include <ATen/ATen.h>

#include "../csrc/problem.h"
#include "operand.cuh"

namespace gemm_convt {

// The fold's phases, found once a call on the host (geometry.h's phase_taps)
// for both kernels below: each phase's slot-0 kernel column (first), landing
// slots (hits) and slot-0 shift x - m (base), and the range of the shifts
// (geometry.h's fold_shifts). Passed by value as a kernel parameter.
struct FoldPhases {
  int32_t first[kMaxFoldPhases], hits[kMaxFoldPhases], base[kMaxFoldPhases];
  int32_t shift_min, shift_max;
};

FoldPhases fold_phases(const Axis<int64_t>& w, const WidthFold<int64_t>& fold);

// dst: src.groups * fold.phases * (src.samples * src.rows * fold.length) *
// (fold.taps * src.k) elements, three times that split; src.k is in_per_group.
// On torch's current stream.
// split (float32 only): A's rows hold three K blocks, the parts lo, cross, hi of
// the values (operand.cuh), for one TF32 GEMM over three products.
void unfold_phases_cuda(at::ScalarType dtype, const OperandSource& src, const Axis<int64_t>& w,
                        const WidthFold<int64_t>& fold, const FoldPhases& phases, bool split,
                        void* dst);

// B for every group and phase: [groups][phases][out_per_group * kh][k_per_group],
// split: [...][3 * k_per_group], the parts cross, lo, hi pairing with A's;
// w: the width axis (width_axis).
at::Tensor fold_weight_cuda(const Problem& p, const Axis<int64_t>& w, const ColumnsShape& cs,
                            const FoldPhases& phases, bool split, const at::Tensor& weight);

}  // namespace gemm_convt
