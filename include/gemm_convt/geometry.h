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

// Spatial geometry of the columns and the output, in the index type the
// caller chose (int32 where every offset fits, int64 otherwise).
template <typename index_t>
struct SpatialGeometry {
  index_t in_h, in_w;
  index_t out_h, out_w;
  index_t kernel_h, kernel_w;
  index_t stride_h, stride_w;
  index_t pad_h, pad_w;
  // dilation = div * stride + mod, per axis (the tap walk below needs only
  // these): it steps from one kernel tap to the next without dividing.
  index_t dil_div_h, dil_mod_h, dil_div_w, dil_mod_w;
};

template <typename index_t>
GEMM_CONVT_HD SpatialGeometry<index_t> make_spatial_geometry(
    int64_t in_h, int64_t in_w, int64_t out_h, int64_t out_w, int64_t kernel_h,
    int64_t kernel_w, int64_t stride_h, int64_t stride_w, int64_t pad_h, int64_t pad_w,
    int64_t dil_h, int64_t dil_w) {
  return SpatialGeometry<index_t>{
      index_t(in_h),   index_t(in_w),   index_t(out_h),   index_t(out_w),
      index_t(kernel_h), index_t(kernel_w), index_t(stride_h), index_t(stride_w),
      index_t(pad_h),  index_t(pad_w),
      index_t(dil_h / stride_h), index_t(dil_h % stride_h),
      index_t(dil_w / stride_w), index_t(dil_w % stride_w)};
}

// Row of the columns matrix that holds channel c's kernel tap (i, j).
template <typename index_t>
GEMM_CONVT_HD index_t column_row(index_t c, index_t i, index_t j, index_t kernel_h,
                                 index_t kernel_w) {
  return (c * kernel_h + i) * kernel_w + j;
}

// Offset of column element (row, h, w) in a block of rows of in_h*in_w values.
template <typename index_t>
GEMM_CONVT_HD index_t column_offset(index_t row, index_t h, index_t w, index_t in_h,
                                    index_t in_w) {
  return (row * in_h + h) * in_w + w;
}

// Along one axis, kernel tap k of output position o reads input position
// in = (o + pad - k*dil) / stride when that division is exact and in < size.
// TapWalk keeps t = o + pad - k*dil as quotient q and remainder r by stride and
// steps k -> k+1 with no division; t only falls, so q < 0 ends the walk.
template <typename index_t>
struct TapWalk {
  index_t q, r;
  GEMM_CONVT_HD TapWalk(index_t o, index_t pad, index_t stride) {
    const index_t t = o + pad;
    q = stride == 1 ? t : t / stride;
    r = t - q * stride;
  }
  GEMM_CONVT_HD bool done() const { return q < 0; }
  GEMM_CONVT_HD bool hits(index_t size) const { return r == 0 && q < size; }
  GEMM_CONVT_HD void next(index_t dil_div, index_t dil_mod, index_t stride) {
    q -= dil_div;
    r -= dil_mod;
    if (r < 0) {
      r += stride;
      --q;
    }
  }
};

// Sum of the column values of one channel that land on output pixel (oh, ow).
// channel_columns points at that channel's kernel_h*kernel_w rows.
template <typename acc_t, typename index_t, typename col_t>
GEMM_CONVT_HD acc_t gather_pixel(const col_t* channel_columns, index_t oh, index_t ow,
                                 const SpatialGeometry<index_t>& g) {
  acc_t sum = acc_t(0);
  const TapWalk<index_t> w_start(ow, g.pad_w, g.stride_w);
  TapWalk<index_t> h(oh, g.pad_h, g.stride_h);
  for (index_t i = 0; i < g.kernel_h && !h.done(); ++i) {
    if (h.hits(g.in_h)) {
      TapWalk<index_t> w = w_start;
      for (index_t j = 0; j < g.kernel_w && !w.done(); ++j) {
        if (w.hits(g.in_w)) {
          const index_t row = column_row(index_t(0), i, j, g.kernel_h, g.kernel_w);
          sum += static_cast<acc_t>(channel_columns[column_offset(row, h.q, w.q, g.in_h, g.in_w)]);
        }
        w.next(g.dil_div_w, g.dil_mod_w, g.stride_w);
      }
    }
    h.next(g.dil_div_h, g.dil_mod_h, g.stride_h);
  }
  return sum;
}

}  // namespace gemm_convt
