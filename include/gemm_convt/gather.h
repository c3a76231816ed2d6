#pragma once

// The direct gather's walk, shared by the CPU path and the CUDA kernel: the
// kernel taps that land on output position (oh, ow), and on the kCols - 1
// further output columns one stride apart, which share them (column u reads
// input column p + u). first_hit finds the first tap of each axis; the walk
// then steps from hit to hit, so no tap that misses is visited.

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// Calls hit(i, q, j, p, inside) for every tap (i, j) landing on the position,
// q the input row, p the input column of column 0; inside[u] says whether
// column u's input (q, p + u) exists and its output column does.
#if defined(__CUDACC__)
#pragma nv_exec_check_disable
#endif
template <int kCols, typename index_t, typename divide_t, typename Hit>
GEMM_CONVT_HD void for_each_gather_hit(const Axis<index_t>& h, const Axis<index_t>& w,
                                       index_t oh, index_t ow, const divide_t& by_stride_h,
                                       const divide_t& by_stride_w, Hit&& hit) {
  const AxisHit<index_t> hh = first_hit(h, oh, by_stride_h);
  const AxisHit<index_t> hw = first_hit(w, ow, by_stride_w);
  for (index_t i = hh.k, q = hh.q; i < h.kernel && q >= 0; i += h.hit_step, q -= h.hit_q_step) {
    if (q >= h.in_size) continue;
    for (index_t j = hw.k, p = hw.q; j < w.kernel && p >= 1 - kCols;
         j += w.hit_step, p -= w.hit_q_step) {
      bool inside[kCols];
      bool any = false;
#pragma unroll
      for (int u = 0; u < kCols; ++u) {
        inside[u] = p + u >= 0 && p + u < w.in_size && ow + u * w.stride < w.out_size;
        any = any || inside[u];
      }
      if (any) hit(i, q, j, p, inside);
    }
  }
}

// The gather's row form, where the taps are disjoint on both axes
// (taps_disjoint): at most one tap lands on any output position per axis, so
// a row's tap (i, q) and a column's (j, p) are found once, and every output of
// the row contracts one input pixel with one weight tap. The CPU path takes it
// wherever the taps are disjoint; the CUDA kernel (cuda/gather_rows.cuh) where
// its tiles also fit and the output's rows are contiguous.
inline bool gather_takes_rows(int64_t kernel_h, int64_t kernel_w, int64_t stride_h,
                              int64_t stride_w, int64_t dilation_h, int64_t dilation_w) {
  return taps_disjoint(kernel_h, stride_h, dilation_h) &&
         taps_disjoint(kernel_w, stride_w, dilation_w);
}

// The one tap landing on output position o of an axis with disjoint taps, and
// the input position it reads; k == kernel where none lands inside the input
// (the position takes the bias alone).
template <typename index_t, typename divide_t>
GEMM_CONVT_HD AxisHit<index_t> disjoint_hit(const Axis<index_t>& a, index_t o,
                                            const divide_t& by_stride) {
  AxisHit<index_t> hit = first_hit(a, o, by_stride);
  if (hit.k < a.kernel && (hit.q < 0 || hit.q >= a.in_size)) hit.k = a.kernel;
  return hit;
}

// The first output column of position k of a row when each position covers
// kCols columns one stride apart: positions enumerate (block of kCols strides,
// phase within the stride). May be >= the output width (nothing to do).
template <int kCols, typename index_t, typename divide_t>
GEMM_CONVT_HD index_t gather_first_column(index_t k, index_t stride, const divide_t& by_stride) {
  if (kCols == 1) return k;
  const index_t block = by_stride.div(k);
  return block * kCols * stride + (k - block * stride);
}

// Whether the gather takes its wide form (CUDA: 16 output channels at two
// columns one stride apart; the CPU walks two columns too, so CI runs that
// walk): at >= 64 multiply-adds per output value on average.
inline bool gather_is_wide(int64_t in_per_group, int64_t taps, int64_t stride_h,
                           int64_t stride_w) {
  return double(in_per_group) * double(taps) / double(stride_h * stride_w) >= 64.0;
}

// Positions per output row: out_w, or (blocks of kCols strides) x stride.
inline int64_t gather_row_positions(int64_t out_w, int64_t stride, int cols) {
  const int64_t span = cols * stride;
  return cols == 1 ? out_w : (out_w + span - 1) / span * stride;
}

}  // namespace gemm_convt
