#pragma once

// The im2col step of the backward pass, shared by the CPU loop and the CUDA
// kernel. It is the exact transpose of col2im (col2im.h): column value
// (c, i, j, h, w) of a sample and group is read from the pixel of grad_output
//   (c, h*stride_h - pad_h + i*dil_h, w*stride_w - pad_w + j*dil_w)
// that the forward pass adds it to, and is zero where that pixel lies outside
// the output (padding cropped it away).

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// One chunk of grad_output turned into columns: a band of input rows
// [row_begin, row_begin + rows) of some samples, laid out as
//   columns[groups][channels][kernel_h*kernel_w][samples][rows*in_w].
// A column row (group, channel, tap) holds the chunk's samples side by side,
// so grad_weight contracts the whole chunk in one GEMM (K = samples*rows*in_w)
// and grad_input takes each sample's block of it. `src` points at the chunk's
// first sample and channel; strides are grad_output's (any layout).
template <typename index_t>
struct Im2colChunk {
  Axis<index_t> h_axis, w_axis;
  index_t samples, groups, channels;
  index_t channels_per_group;  // grad_output-channel distance between two groups
  index_t row_begin, rows;     // the band of input rows
  index_t src_stride_n, src_stride_c, src_stride_h, src_stride_w;

  GEMM_CONVT_HD index_t taps() const { return h_axis.kernel * w_axis.kernel; }
  GEMM_CONVT_HD index_t band_pixels() const { return rows * w_axis.in_size; }
  // Values per column row: the GEMMs' leading dimension.
  GEMM_CONVT_HD index_t row_length() const { return samples * band_pixels(); }
  GEMM_CONVT_HD index_t planes() const { return groups * channels; }
  GEMM_CONVT_HD index_t column_rows() const { return planes() * taps(); }
};

// grad_output offset of plane `plane` (group, channel) of the chunk, sample 0.
template <typename index_t>
GEMM_CONVT_HD index_t im2col_plane_source(const Im2colChunk<index_t>& chunk, index_t plane) {
  const index_t c = plane % chunk.channels, grp = plane / chunk.channels;
  return (grp * chunk.channels_per_group + c) * chunk.src_stride_c;
}

// The value of kernel tap (i, j) at sample n, band row h (0-based in the
// band), input column w of a plane; it is stored in column row
// plane*taps + i*kernel_w + j. The output pixel it reads is the one col2im
// gathers it into (the tap mapping of geometry.h, written forwards).
template <typename index_t, typename src_t>
GEMM_CONVT_HD src_t im2col_value(const Im2colChunk<index_t>& chunk, const src_t* src,
                                 index_t plane_src, index_t i, index_t j, index_t n, index_t h,
                                 index_t w) {
  const index_t oh = tap_target(chunk.h_axis, chunk.row_begin + h, i);
  const index_t ow = tap_target(chunk.w_axis, w, j);
  if (oh < 0 || oh >= chunk.h_axis.out_size || ow < 0 || ow >= chunk.w_axis.out_size)
    return src_t(0);
  return src[plane_src + n * chunk.src_stride_n + oh * chunk.src_stride_h + ow * chunk.src_stride_w];
}

}  // namespace gemm_convt
