#pragma once

// Geometry of the implicit GEMM (CUDA kernel, its cost model and the CPU
// version that CI runs): the output positions of one row and one width phase,
// ow = phase + stride * m, share the width taps that land on them, and tap t
// reads input column base - t * hit_q_step + m for position m. The row taps
// are walked as a state (first_row_tap, next_row_tap) so that the kernel can
// load the next step while it computes this one.

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// Positions of a width phase: ow = phase + stride * m < out_size.
template <typename index_t>
GEMM_CONVT_HD index_t phase_length(const Axis<index_t>& w, index_t phase) {
  return phase < w.out_size ? (w.out_size - phase + w.stride - 1) / w.stride : index_t(0);
}

// The width taps landing on a phase: kernel columns first, first + hit_step,
// ... (hits of them); tap t reads input column base - t * hit_q_step + m.
template <typename index_t>
struct PhaseTaps {
  index_t first, hits, base;
};

template <typename index_t, typename divide_t>
GEMM_CONVT_HD PhaseTaps<index_t> phase_taps(const Axis<index_t>& w, index_t phase,
                                            const divide_t& by_stride) {
  const AxisHit<index_t> hit = first_hit(w, phase, by_stride);
  const index_t hits = hit.k < w.kernel ? (w.kernel - 1 - hit.k) / w.hit_step + 1 : index_t(0);
  return PhaseTaps<index_t>{hit.k, hits, hit.q};
}

// A landing row tap: kernel row i reads input row q (0 <= q < in_size).
// i == kernel: none (left).
template <typename index_t>
struct RowTap {
  index_t i, q;
};

template <typename index_t, typename divide_t>
GEMM_CONVT_HD RowTap<index_t> first_row_tap(const Axis<index_t>& h, index_t oh,
                                            const divide_t& by_stride) {
  const AxisHit<index_t> hit = first_hit(h, oh, by_stride);
  RowTap<index_t> t{hit.k, hit.q};
  while (t.i < h.kernel && t.q >= h.in_size) t.i += h.hit_step, t.q -= h.hit_q_step;
  if (t.q < 0) t.i = h.kernel;  // below the input: later taps read lower rows still
  return t;
}

// q < in_size holds from here on: each tap reads a lower input row.
template <typename index_t>
GEMM_CONVT_HD RowTap<index_t> next_row_tap(const Axis<index_t>& h, RowTap<index_t> t) {
  t.i += h.hit_step, t.q -= h.hit_q_step;
  if (t.q < 0) t.i = h.kernel;
  return t;
}

}  // namespace gemm_convt
