#pragma once

// The per-element col2im step, shared by the CPU loop and the CUDA kernel.

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// One chunk of work: the columns of `batch` samples x `groups` groups x
// `channels` output channels per group, laid out as
//   columns[batch][groups][channels][kernel_h*kernel_w][in_h*in_w].
// `out` and `bias` are already offset to the chunk's first sample and channel,
// so in-chunk offsets stay small enough for 32-bit indexing in most problems.
template <typename index_t>
struct Col2imChunk {
  SpatialGeometry<index_t> geo;
  index_t batch, groups, channels;
  index_t channels_per_group;  // output-channel distance between two groups
  index_t out_stride_n, out_stride_c, out_stride_h, out_stride_w;

  GEMM_CONVT_HD index_t numel() const {
    return batch * groups * channels * geo.out_h * geo.out_w;
  }
};

// Computes output pixel (oh, ow) of channel c of group grp of sample n of the
// chunk from its columns, adds the bias, and writes it once.
template <typename acc_t, typename index_t, typename col_t, typename out_t>
GEMM_CONVT_HD void col2im_pixel(const Col2imChunk<index_t>& chunk, const col_t* columns,
                                const out_t* bias, out_t* out, index_t n, index_t grp,
                                index_t c, index_t oh, index_t ow) {
  const SpatialGeometry<index_t>& g = chunk.geo;
  const index_t plane = (n * chunk.groups + grp) * chunk.channels + c;
  const index_t plane_size = g.kernel_h * g.kernel_w * g.in_h * g.in_w;
  const index_t out_c = grp * chunk.channels_per_group + c;

  acc_t sum = bias ? static_cast<acc_t>(bias[out_c]) : acc_t(0);
  sum += gather_pixel<acc_t>(columns + plane * plane_size, oh, ow, g);
  out[n * chunk.out_stride_n + out_c * chunk.out_stride_c + oh * chunk.out_stride_h +
      ow * chunk.out_stride_w] = static_cast<out_t>(sum);
}

// (sample, group, channel, oh) of output row `row` of the chunk, rows ordered
// (n, group, channel, oh): the CPU loops over rows, the GPU over elements.
template <typename index_t>
struct ChunkRow {
  index_t n, grp, c, oh;
};

template <typename index_t>
GEMM_CONVT_HD ChunkRow<index_t> chunk_row(const Col2imChunk<index_t>& chunk, index_t row) {
  ChunkRow<index_t> r;
  r.oh = row % chunk.geo.out_h;
  row /= chunk.geo.out_h;
  r.c = row % chunk.channels;
  row /= chunk.channels;
  r.grp = row % chunk.groups;
  r.n = row / chunk.groups;
  return r;
}

// Output element `linear` of the chunk, in (n, group, channel, oh, ow) order.
template <typename acc_t, typename index_t, typename col_t, typename out_t>
GEMM_CONVT_HD void col2im_element(const Col2imChunk<index_t>& chunk, const col_t* columns,
                                  const out_t* bias, out_t* out, index_t linear) {
  const ChunkRow<index_t> r = chunk_row(chunk, index_t(linear / chunk.geo.out_w));
  col2im_pixel<acc_t>(chunk, columns, bias, out, r.n, r.grp, r.c, r.oh,
                      index_t(linear % chunk.geo.out_w));
}

}  // namespace gemm_convt
