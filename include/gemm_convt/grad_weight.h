#pragma once

// grad_weight contracted in place, without columns: for kernel tap (i, j),
//   grad_weight[g*cin_g + ci][co][i][j] = sum over input positions (n, h, w) of
//     input[n][g*cin_g + ci][h][w] * grad_output[n][g*cout_g + co][oh][ow],
//   (oh, ow) = (tap_target(h, i), tap_target(w, j)), nothing where that lies
// outside grad_output: im2col's value (im2col.h) read where it is used. The
// positions are one index over (n, h, w), cut into slices whose partial sums
// are added in slice order (deterministic). Shared by the CUDA kernel and the
// CPU walk.

#include "gemm_convt/geometry.h"

namespace gemm_convt {

template <typename index_t>
struct Position {
  index_t n, h, w;
};

// Position index p = (n * in_h + h) * in_w + w, split by dividers of
// in_h * in_w and in_w.
template <typename index_t, typename divide_t>
GEMM_CONVT_HD Position<index_t> split_position(index_t p, const divide_t& by_pixels,
                                               const divide_t& by_width) {
  const index_t n = by_pixels.div(p), pixel = p - n * by_pixels.divisor;
  const index_t h = by_width.div(pixel);
  return Position<index_t>{n, h, pixel - h * by_width.divisor};
}

// grad_output offset (its channel's aside) that tap (i, j) reads at a position,
// or -1 where the tap lands outside grad_output.
template <typename index_t, typename offset_t>
GEMM_CONVT_HD offset_t grad_weight_source(const Axis<index_t>& h_axis, const Axis<index_t>& w_axis,
                                          const Position<index_t>& at, index_t i, index_t j,
                                          offset_t stride_n, offset_t stride_h, offset_t stride_w) {
  const index_t oh = tap_target(h_axis, at.h, i), ow = tap_target(w_axis, at.w, j);
  if (oh < 0 || oh >= h_axis.out_size || ow < 0 || ow >= w_axis.out_size) return offset_t(-1);
  return at.n * stride_n + oh * stride_h + ow * stride_w;
}

}  // namespace gemm_convt
