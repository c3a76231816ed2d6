#pragma once

// The per-element im2col step of the backward pass, shared by the CPU loop and
// the CUDA kernel. It is the exact transpose of col2im (col2im.h): column value
// (c, i, j, h, w) of a sample and group is read from the pixel of grad_output
//   (c, h*stride_h - pad_h + i*dil_h, w*stride_w - pad_w + j*dil_w)
// that the forward pass adds it to, and is zero where that pixel lies outside
// the output (padding cropped it away).

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// One chunk of grad_output turned into columns, laid out like the forward's:
//   columns[batch][groups][channels][kernel_h*kernel_w][in_h*in_w].
// `src` pointers are offset to the chunk's first sample and channel; strides
// are grad_output's (any layout: NCHW, channels_last, non-contiguous).
template <typename index_t>
struct Im2colChunk {
  Axis<index_t> h_axis, w_axis;
  index_t batch, groups, channels;
  index_t channels_per_group;  // grad_output-channel distance between two groups
  index_t src_stride_n, src_stride_c, src_stride_h, src_stride_w;

  GEMM_CONVT_HD index_t plane_size() const {
    return h_axis.kernel * w_axis.kernel * h_axis.in_size * w_axis.in_size;
  }
  GEMM_CONVT_HD index_t numel() const { return batch * groups * channels * plane_size(); }
};

// Column value (c, i, j, h, w) of group grp of sample n, stored at its place
// in the chunk's columns. The output pixel it reads is the one col2im_pixel
// gathers it into (the tap mapping of geometry.h, written forwards).
template <typename index_t, typename src_t, typename col_t>
GEMM_CONVT_HD void im2col_value(const Im2colChunk<index_t>& chunk, const src_t* src,
                                col_t* columns, index_t n, index_t grp, index_t c, index_t i,
                                index_t j, index_t h, index_t w) {
  const Axis<index_t>& ah = chunk.h_axis;
  const Axis<index_t>& aw = chunk.w_axis;
  const index_t oh = tap_target(ah, h, i);
  const index_t ow = tap_target(aw, w, j);
  const index_t plane = (n * chunk.groups + grp) * chunk.channels + c;
  const index_t row = column_row(index_t(0), i, j, ah.kernel, aw.kernel);
  col_t value = col_t(0);
  if (oh >= 0 && oh < ah.out_size && ow >= 0 && ow < aw.out_size) {
    const index_t src_c = grp * chunk.channels_per_group + c;
    value = static_cast<col_t>(src[n * chunk.src_stride_n + src_c * chunk.src_stride_c +
                                   oh * chunk.src_stride_h + ow * chunk.src_stride_w]);
  }
  columns[plane * chunk.plane_size() + column_offset(row, h, w, ah.in_size, aw.in_size)] = value;
}

// (sample, group, channel, kernel tap) of column row `row` of the chunk, rows
// ordered (n, group, channel, i, j): the CPU loops over rows, the GPU over
// elements.
template <typename index_t>
struct Im2colRow {
  index_t n, grp, c, i, j;
};

template <typename index_t>
GEMM_CONVT_HD Im2colRow<index_t> im2col_row(const Im2colChunk<index_t>& chunk, index_t row) {
  Im2colRow<index_t> r;
  r.j = row % chunk.w_axis.kernel;
  row /= chunk.w_axis.kernel;
  r.i = row % chunk.h_axis.kernel;
  row /= chunk.h_axis.kernel;
  r.c = row % chunk.channels;
  row /= chunk.channels;
  r.grp = row % chunk.groups;
  r.n = row / chunk.groups;
  return r;
}

// Column element `linear` of the chunk, in storage order.
template <typename index_t, typename src_t, typename col_t>
GEMM_CONVT_HD void im2col_element(const Im2colChunk<index_t>& chunk, const src_t* src,
                                  col_t* columns, index_t linear) {
  const index_t in_w = chunk.w_axis.in_size;
  const index_t pixels = chunk.h_axis.in_size * in_w;
  const index_t pixel = linear % pixels;
  const Im2colRow<index_t> r = im2col_row(chunk, index_t(linear / pixels));
  im2col_value(chunk, src, columns, r.n, r.grp, r.c, r.i, r.j, index_t(pixel / in_w),
               index_t(pixel % in_w));
}

}  // namespace gemm_convt
