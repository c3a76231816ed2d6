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
  index_t dil_h, dil_w;
};

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

// Input position read by kernel tap k for output position o along one axis:
// o = in*stride - pad + k*dil. Returns false when no input position maps there.
template <typename index_t>
GEMM_CONVT_HD bool tap_source(index_t o, index_t k, index_t stride, index_t pad,
                              index_t dil, index_t in_size, index_t* in) {
  const index_t t = o + pad - k * dil;
  if (t < 0) return false;
  const index_t q = t / stride;
  if (q * stride != t || q >= in_size) return false;
  *in = q;
  return true;
}

// Sum of the column values of one channel that land on output pixel (oh, ow).
// channel_columns points at that channel's kernel_h*kernel_w rows.
template <typename acc_t, typename index_t, typename col_t>
GEMM_CONVT_HD acc_t gather_pixel(const col_t* channel_columns, index_t oh, index_t ow,
                                 const SpatialGeometry<index_t>& g) {
  acc_t sum = acc_t(0);
  for (index_t i = 0; i < g.kernel_h; ++i) {
    index_t h;
    if (!tap_source(oh, i, g.stride_h, g.pad_h, g.dil_h, g.in_h, &h)) continue;
    for (index_t j = 0; j < g.kernel_w; ++j) {
      index_t w;
      if (!tap_source(ow, j, g.stride_w, g.pad_w, g.dil_w, g.in_w, &w)) continue;
      const index_t row = column_row(index_t(0), i, j, g.kernel_h, g.kernel_w);
      sum += static_cast<acc_t>(channel_columns[column_offset(row, h, w, g.in_h, g.in_w)]);
    }
  }
  return sum;
}

}  // namespace gemm_convt
