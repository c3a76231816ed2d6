#pragma once

// Geometry of the implicit GEMM (CUDA kernel, its cost model and the CPU
// version that CI runs): the output positions of one row and one width phase,
// ow = phase + stride * m, share the width taps that land on them, and tap t
// reads input column base - t * hit_q_step + m for position m. The row taps
// are walked as a state (first_row_tap, next_row_tap) so that the kernel can
// load the next step while it computes this one.

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// Short rows: where a width phase holds at most half of a tile's positions, a
// tile takes whole phase rows instead, kImplicitTileM / longest of them (fewer
// where their input segments would pass kImplicitMaxSpan staged columns), of
// one row phase and one width phase, consecutive over (sample, phase row).
// Phase rows are numbered n * rows_per_sample + r with rows_per_sample the
// longest row phase's length; r beyond this row phase's length is no row.
constexpr int kImplicitTileM = 128;   // output positions per tile
constexpr int kImplicitMaxSpan = 160;  // staged input columns per tile, at most

// Staged columns of one phase row: its positions plus the shifts between the
// taps, plus up to 3 for 4-column alignment, in whole quads.
template <typename index_t>
GEMM_CONVT_HD index_t band_segment_rows(const Axis<index_t>& w) {
  return (phase_length(w, index_t(0)) + (max_width_hits(w) - 1) * w.hit_q_step + 3 + 3) / 4 * 4;
}

// Phase rows per tile; 1: a tile takes kImplicitTileM positions of one row.
template <typename index_t>
GEMM_CONVT_HD index_t band_rows(const Axis<index_t>& w) {
  const index_t longest = phase_length(w, index_t(0));  // phase 0 is the longest
  if (longest == 0 || 2 * longest > kImplicitTileM) return 1;
  const index_t by_positions = kImplicitTileM / longest;
  const index_t by_span = kImplicitMaxSpan / band_segment_rows(w);
  return by_positions < by_span ? by_positions : by_span;
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

// Bands walk every landing tap of a row phase ph (its rows ph + r * stride):
// the tap's kernel row i and the input row q that phase row 0 reads, which
// may lie outside the input; phase row r reads band_input_row (zeros outside).
template <typename index_t, typename divide_t>
GEMM_CONVT_HD RowTap<index_t> first_band_tap(const Axis<index_t>& h, index_t ph,
                                             const divide_t& by_stride) {
  const PhaseTaps<index_t> t = phase_taps(h, ph, by_stride);
  return RowTap<index_t>{t.first, t.base};  // no tap lands: first == kernel
}

template <typename index_t>
GEMM_CONVT_HD RowTap<index_t> next_band_tap(const Axis<index_t>& h, RowTap<index_t> t) {
  t.i += h.hit_step, t.q -= h.hit_q_step;
  return t;
}

// One row: q < in_size holds from here on, each tap reads a lower input row.
template <typename index_t>
GEMM_CONVT_HD RowTap<index_t> next_row_tap(const Axis<index_t>& h, RowTap<index_t> t) {
  t = next_band_tap(h, t);
  if (t.q < 0) t.i = h.kernel;
  return t;
}

template <typename index_t>
GEMM_CONVT_HD index_t band_input_row(const RowTap<index_t>& t, index_t r) {
  return t.q + r;
}

}  // namespace gemm_convt
