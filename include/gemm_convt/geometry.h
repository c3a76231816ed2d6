#pragma once

// Geometry of a 2-D transposed convolution computed as GEMM + col2im.
//
// The GEMM turns each input pixel into Cout*kh*kw "column" values:
//   columns[c][i][j][h][w] = sum_ci weight[ci][c][i][j] * input[ci][h][w]
// and the column value (c, i, j, h, w) belongs to the output pixel
//   (c, h*stride_h - pad_h + i*dil_h, w*stride_w - pad_w + j*dil_w).
// col2im inverts that map: each output element gathers the column values that
// land on it, so every output element is written exactly once (no atomics).

#include <cstdint>

#include "gemm_convt/macros.h"

namespace gemm_convt {

// Output extent of one spatial axis, as torch.nn.ConvTranspose2d documents it.
GEMM_CONVT_HD int64_t transposed_output_size(int64_t in, int64_t kernel, int64_t stride,
                                             int64_t pad, int64_t dilation,
                                             int64_t output_padding) {
  return (in - 1) * stride - 2 * pad + dilation * (kernel - 1) + output_padding + 1;
}

// a / b rounded toward negative infinity (b > 0).
template <typename index_t>
GEMM_CONVT_HD index_t floor_div(index_t a, index_t b) {
  return a >= 0 ? a / b : -((-a + b - 1) / b);
}

GEMM_CONVT_HD int64_t gcd(int64_t a, int64_t b) {
  while (b != 0) {
    const int64_t t = a % b;
    a = b;
    b = t;
  }
  return a;
}

// One spatial axis. Kernel tap k of output position o reads input position
// (o + pad - k*dil) / stride when that division is exact. Write t = o + pad =
// q*stride + r: the taps that divide exactly are k0, k0 + hit_step, ... (k0 the
// first, found by the walk below), and each hit reads hit_q_step input
// positions lower than the one before. Only hits are ever visited.
template <typename index_t>
struct Axis {
  index_t in_size, out_size, kernel, stride, pad;
  index_t dil_div, dil_mod;  // dilation = dil_div * stride + dil_mod
  index_t hit_step;          // stride / gcd(stride, dilation)
  index_t hit_q_step;        // dilation * hit_step / stride
};

template <typename index_t>
GEMM_CONVT_HD Axis<index_t> make_axis(int64_t in_size, int64_t out_size, int64_t kernel,
                                      int64_t stride, int64_t pad, int64_t dilation) {
  const int64_t step = stride / gcd(stride, dilation);
  return Axis<index_t>{index_t(in_size),          index_t(out_size),
                       index_t(kernel),           index_t(stride),
                       index_t(pad),              index_t(dilation / stride),
                       index_t(dilation % stride), index_t(step),
                       index_t(dilation * step / stride)};
}

// The first tap k whose division is exact for output position o, and the input
// position q it reads (q may lie outside the input: the caller bounds it; a
// tile of rows one stride apart shares the taps, row r reading q + r).
// k == kernel: no tap divides exactly. The walk steps
// t - k*dil as quotient and remainder by stride (no division after the first),
// and stops after hit_step taps: the residues repeat from there.
template <typename index_t>
struct AxisHit {
  index_t k, q;
};

template <typename index_t, typename divide_t>
GEMM_CONVT_HD AxisHit<index_t> first_hit(const Axis<index_t>& a, index_t o,
                                         const divide_t& by_stride) {
  const index_t t = o + a.pad;  // >= 0 for every output position
  index_t q = by_stride.div(t);
  index_t r = t - q * a.stride;
  const index_t last = a.kernel < a.hit_step ? a.kernel : a.hit_step;
  for (index_t k = 0; k < last; ++k) {
    if (r == 0) return AxisHit<index_t>{k, q};
    q -= a.dil_div;
    r -= a.dil_mod;
    if (r < 0) {
      r += a.stride;
      --q;
    }
  }
  return AxisHit<index_t>{a.kernel, index_t(0)};
}

// Output position that kernel tap k of input position q lands on (may fall
// outside the output).
template <typename index_t>
GEMM_CONVT_HD index_t tap_target(const Axis<index_t>& a, index_t q, index_t k) {
  return q * a.stride - a.pad + k * (a.dil_div * a.stride + a.dil_mod);
}

// The w axis of columns whose kernel width is folded into the GEMM: one tap,
// output columns read one to one.
template <typename index_t>
GEMM_CONVT_HD Axis<index_t> folded_axis(int64_t out_size) {
  return make_axis<index_t>(out_size, out_size, 1, 1, 0, 1);
}

// Row of the columns matrix that holds channel c's kernel tap (i, j).
template <typename index_t>
GEMM_CONVT_HD index_t column_row(index_t c, index_t i, index_t j, index_t kernel_h,
                                 index_t kernel_w) {
  return (c * kernel_h + i) * kernel_w + j;
}

// Disjoint taps: where the dilated kernel fits in one stride (dil*(k-1) + 1 <=
// stride), the taps of different input positions never land on the same output
// position. Input position q then owns the stride-long output "cell" starting
// at cell_origin(q); offset r of the cell is tap r / dil when r is a multiple
// of dil below dil*kernel (tap_target of that tap), and no tap otherwise (bias
// only). col2im is then a permutation, which the GEMM can write directly.
GEMM_CONVT_HD bool taps_disjoint(int64_t kernel, int64_t stride, int64_t dilation) {
  return dilation * (kernel - 1) + 1 <= stride;
}

GEMM_CONVT_HD int64_t cell_origin(int64_t q, int64_t stride, int64_t pad) {
  return q * stride - pad;
}

// Tap at offset r (0 <= r < stride) of a cell, or -1 where none lands.
GEMM_CONVT_HD int cell_tap(int r, int kernel, int dilation) {
  return (r % dilation == 0 && r / dilation < kernel) ? r / dilation : -1;
}

// Consecutive output positions of an axis with disjoint taps, walked without
// division: position o lies at offset r of input position q's cell
// (o + pad = q*stride + r); `tap` is the first tap at or after offset r
// (tap_offset = tap*dilation; tap == kernel: none left in the cell), and it
// lands on o exactly when tap_offset == r.
template <typename index_t>
struct CellWalk {
  index_t q, r, tap, tap_offset, dilation;
};

template <typename index_t, typename divide_t>
GEMM_CONVT_HD CellWalk<index_t> cell_walk_at(const Axis<index_t>& a, index_t o,
                                             const divide_t& by_stride) {
  CellWalk<index_t> c;
  const index_t t = o + a.pad;  // >= 0 for every output position
  c.q = by_stride.div(t);
  c.r = t - c.q * a.stride;
  c.dilation = a.dil_div * a.stride + a.dil_mod;
  c.tap = 0;
  c.tap_offset = 0;
  while (c.tap < a.kernel && c.tap_offset < c.r) {
    ++c.tap;
    c.tap_offset += c.dilation;
  }
  return c;
}

template <typename index_t>
GEMM_CONVT_HD bool cell_hit(const Axis<index_t>& a, const CellWalk<index_t>& c) {
  return c.tap < a.kernel && c.tap_offset == c.r;
}

// On to output position o + 1.
template <typename index_t>
GEMM_CONVT_HD void cell_step(const Axis<index_t>& a, CellWalk<index_t>& c) {
  if (cell_hit(a, c)) {
    ++c.tap;
    c.tap_offset += c.dilation;
  }
  if (++c.r == a.stride) {
    c.r = 0;
    ++c.q;
    c.tap = 0;
    c.tap_offset = 0;
  }
}

// Stride phases of one axis: positions o = phase + stride * m (m = 0, 1, ...)
// share the taps that land on them. The implicit GEMM and the width-folded
// columns both walk an axis phase by phase.
// Positions of a phase: ow = phase + stride * m < out_size.
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

// Width taps landing on a phase, at most: hits are hit_step apart.
template <typename index_t>
GEMM_CONVT_HD index_t max_width_hits(const Axis<index_t>& w) {
  return (w.kernel + w.hit_step - 1) / w.hit_step;
}

// Width folded by stride phase: each output width phase r is a stride-1
// transposed convolution along w with only the taps that land on it, so the
// GEMM contracts over (landing tap slot t, input channel) and writes
// out_per_group * kh column values per (input row, output column), none for
// taps that miss. Phases are padded to `length` positions and `taps` slots
// (slots past a phase's hits, and positions past out_w, contract zeros).
// With stride 1 this is the plain fold: one phase, every width tap a slot.
template <typename index_t>
struct WidthFold {
  index_t phases, length, taps;
};

// Width strides (so phases) a fold takes at most.
constexpr int kMaxFoldPhases = 32;

template <typename index_t>
GEMM_CONVT_HD WidthFold<index_t> width_fold(const Axis<index_t>& w) {
  return WidthFold<index_t>{w.stride, (w.out_size + w.stride - 1) / w.stride, max_width_hits(w)};
}

// Input column that slot t of phase r reads for position m (output column
// r + stride * m), or -1 for none (no such tap, or outside the input).
template <typename index_t>
GEMM_CONVT_HD index_t fold_source(const Axis<index_t>& w, const PhaseTaps<index_t>& phase,
                                  index_t t, index_t m) {
  if (t >= phase.hits) return index_t(-1);
  const index_t x = phase.base - t * w.hit_q_step + m;
  return x >= 0 && x < w.in_size ? x : index_t(-1);
}

// The shifts x - m of a fold's input columns (fold_source) over every phase's
// landing slots lie in [min, max]: what one position range of the unfold
// reads, widened by max - min (the spread).
template <typename index_t>
struct FoldShifts {
  index_t min, max;
};

template <typename index_t, typename divide_t>
GEMM_CONVT_HD FoldShifts<index_t> fold_shifts(const Axis<index_t>& w, index_t phases,
                                              const divide_t& by_stride) {
  FoldShifts<index_t> s{index_t(0), index_t(0)};
  bool any = false;
  for (index_t r = 0; r < phases; ++r) {
    const PhaseTaps<index_t> phase = phase_taps(w, r, by_stride);
    if (phase.hits == 0) continue;
    const index_t lo = phase.base - (phase.hits - 1) * w.hit_q_step;
    s.min = any && s.min < lo ? s.min : lo;
    s.max = any && s.max > phase.base ? s.max : phase.base;
    any = true;
  }
  return s;
}

// Kernel column of slot t of a phase (slots < hits only).
template <typename index_t>
GEMM_CONVT_HD index_t fold_tap(const Axis<index_t>& w, const PhaseTaps<index_t>& phase, index_t t) {
  return phase.first + t * w.hit_step;
}

}  // namespace gemm_convt
