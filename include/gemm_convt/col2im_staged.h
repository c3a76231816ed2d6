#pragma once

// col2im over staged tiles, shared by the CPU loop and the CUDA kernel (plain
// order, unfolded columns, taps that overlap).
//
// A work item is a tile of output pixels of one channel. Every column value
// lands on exactly one output pixel, so the values a tile needs are, per tap
// (i, j), the input rows q and columns x whose tap lands inside it: a
// rectangle of the tap's column row (StagedSpan on each axis). The tile first
// copies those rectangles into a staging buffer (the GPU: shared memory), run
// by run along the column rows (coalesced, one pass over the bytes), then
// sums each pixel from there. The item walk reads the same values straight
// from the columns, a warp's loads scattered over several column rows; the
// sums here are taken in its order (col2im_tile_sums: bias, then taps by h,
// then w), so the same bits.
//
// Staging row r = tap * q_pitch + qq holds input row q_first[i] + qq of tap
// (i, j) = (tap / kernel_w, tap % kernel_w): x_count[j] values from input
// column x_first[j], 1 << x_shift slots wide.

#include "gemm_convt/col2im.h"

namespace gemm_convt {

// Kernel extents, staging rows and staging bytes a tile may take at most
// (the GPU keeps the spans and the row table in fixed shared arrays, up to
// 9 KB, and the values beside them within the 48 KB a block gets unasked).
constexpr int kStagedMaxKernel = 32;
constexpr int kStagedMaxRows = 512;
constexpr int kStagedMaxBytes = 38 * 1024;
// A tile's output columns at most, and about how many pixels it takes (the
// GPU's 256 threads each sum ~8).
constexpr int kStagedTileCols = 128;
constexpr int kStagedTilePixels = 2048;

template <typename index_t>
struct StagedTile {
  index_t n, grp, c;
  index_t oh_begin, oh_end, ow_begin, ow_end;
};

// Work item `item` of a staged chunk: column tile fastest, then row tile,
// channel, group, sample.
template <typename index_t>
GEMM_CONVT_HD StagedTile<index_t> staged_tile(const Col2imChunk<index_t>& k, index_t item) {
  StagedTile<index_t> t;
  index_t rest = k.by_col_tiles.div(item);
  const index_t col_tile = item - rest * k.col_tiles;
  item = rest;
  rest = k.by_row_tiles.div(item);
  const index_t row_tile = item - rest * k.row_tiles;
  item = rest;
  rest = k.by_channel_tiles.div(item);  // channel_tiles == channels in plain order
  t.c = item - rest * k.channel_tiles;
  t.n = k.by_groups.div(rest);
  t.grp = rest - t.n * k.groups;
  t.oh_begin = k.out_row_begin + row_tile * k.tile_rows;
  t.oh_end = t.oh_begin + k.tile_rows < k.out_row_end ? t.oh_begin + k.tile_rows : k.out_row_end;
  t.ow_begin = col_tile * k.tile_cols;
  t.ow_end = t.ow_begin + k.tile_cols < k.w.out_size ? t.ow_begin + k.tile_cols : k.w.out_size;
  return t;
}

// a / b rounded up, for any sign of a (b > 0).
template <typename index_t>
GEMM_CONVT_HD index_t ceil_div_any(index_t a, index_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

template <typename index_t>
struct StagedSpan {
  index_t first, count;
};

// The input positions in [in_begin, in_end) whose tap `tap` lands in
// [o_begin, o_end): q * stride - pad + tap * dilation in that range. At most
// ceil((o_end - o_begin) / stride) of them.
template <typename index_t>
GEMM_CONVT_HD StagedSpan<index_t> staged_span(const Axis<index_t>& a, index_t tap, index_t o_begin,
                                              index_t o_end, index_t in_begin, index_t in_end) {
  const index_t shift = a.pad - tap * (a.dil_div * a.stride + a.dil_mod);
  index_t first = ceil_div_any<index_t>(o_begin + shift, a.stride);
  index_t end = ceil_div_any<index_t>(o_end + shift, a.stride);
  if (first < in_begin) first = in_begin;
  if (end > in_end) end = in_end;
  return StagedSpan<index_t>{first, end > first ? end - first : index_t(0)};
}

// One tile's spans: q per h tap, x per w tap.
template <typename index_t>
struct StagedSpans {
  StagedSpan<index_t> q[kStagedMaxKernel], x[kStagedMaxKernel];
};

// Span s of a tile: h taps first (s < kernel_h), then w taps.
template <typename index_t>
GEMM_CONVT_HD void staged_set_span(const Col2imChunk<index_t>& k, const StagedTile<index_t>& t,
                                   index_t s, StagedSpans<index_t>& spans) {
  if (s < k.h.kernel)
    spans.q[s] = staged_span(k.h, s, t.oh_begin, t.oh_end, k.row_begin, k.row_begin + k.rows);
  else
    spans.x[s - k.h.kernel] =
        staged_span(k.w, s - k.h.kernel, t.ow_begin, t.ow_end, index_t(0), k.w.in_size);
}

template <typename index_t>
GEMM_CONVT_HD index_t staged_rows(const Col2imChunk<index_t>& k) {
  return k.h.kernel * k.w.kernel * k.q_pitch;
}

// The tile's column values: channel c of group grp of sample n.
template <typename index_t, typename col_t>
GEMM_CONVT_HD const col_t* staged_channel(const Col2imChunk<index_t>& k, const col_t* columns,
                                          const StagedTile<index_t>& t) {
  return columns + t.n * k.col_stride_n +
         (t.grp * k.channels + t.c) * k.h.kernel * k.w.kernel * k.col_stride_row;
}

// Staging row r: where its run starts in the channel's columns, and its length.
template <typename index_t>
struct StagedRow {
  index_t src, count;
};

template <typename index_t>
GEMM_CONVT_HD StagedRow<index_t> staged_row(const Col2imChunk<index_t>& k,
                                            const StagedSpans<index_t>& spans, index_t r) {
  const index_t tap = k.by_q_pitch.div(r);
  const index_t qq = r - tap * k.q_pitch;
  const index_t i = k.by_kernel_w.div(tap);
  const index_t j = tap - i * k.w.kernel;
  const StagedSpan<index_t> q = spans.q[i], x = spans.x[j];
  if (qq >= q.count || x.count == 0) return StagedRow<index_t>{0, 0};
  return StagedRow<index_t>{
      tap * k.col_stride_row + (q.first + qq - k.row_begin) * k.col_stride_h + x.first, x.count};
}

// Pixel e of the tile (row-major over tile_rows x tile_cols; those outside
// the output do nothing): its bias plus every staged value landing on it.
template <typename acc_t, typename index_t, typename col_t, typename out_t>
GEMM_CONVT_HD void staged_pixel(const Col2imChunk<index_t>& k, const StagedTile<index_t>& t,
                                const StagedSpans<index_t>& spans, const col_t* staging,
                                const out_t* bias, out_t* out, index_t e) {
  const index_t row = k.by_tile_cols.div(e);
  const index_t oh = t.oh_begin + row, ow = t.ow_begin + (e - row * k.tile_cols);
  if (oh >= t.oh_end || ow >= t.ow_end) return;
  const index_t out_c = t.grp * k.channels_per_group + t.c;
  acc_t acc = bias ? static_cast<acc_t>(bias[out_c]) : acc_t(0);
  const Axis<index_t>& ah = k.h;
  const Axis<index_t>& aw = k.w;
  const AxisHit<index_t> hh = first_hit(ah, oh, k.by_stride_h);
  const AxisHit<index_t> hw = first_hit(aw, ow, k.by_stride_w);
  const index_t row_end = k.row_begin + k.rows;
  const index_t tap_stride = k.q_pitch << k.x_shift;  // from tap (i, j) to (i, j + 1)
  for (index_t i = hh.k, q = hh.q; i < ah.kernel && q >= k.row_begin;
       i += ah.hit_step, q -= ah.hit_q_step) {
    if (q >= row_end) continue;
    // Staging row of tap (i, 0) at input row q.
    const col_t* taps = staging + ((i * aw.kernel * k.q_pitch + q - spans.q[i].first) << k.x_shift);
    for (index_t j = hw.k, x = hw.q; j < aw.kernel && x >= 0; j += aw.hit_step, x -= aw.hit_q_step) {
      if (x >= aw.in_size) continue;
      acc += static_cast<acc_t>(taps[j * tap_stride + x - spans.x[j].first]);
    }
  }
  out[t.n * k.out_stride_n + out_c * k.out_stride_c + oh * k.out_stride_h + ow * k.out_stride_w] =
      static_cast<out_t>(acc);
}

// One tile start to end, one step after another: the CPU's form. The GPU
// kernel (col2im_kernel.cuh) takes the same steps, each spread over a block's
// threads with a barrier between them.
template <typename acc_t, typename index_t, typename col_t, typename out_t>
inline void col2im_staged_tile(const Col2imChunk<index_t>& k, const col_t* columns,
                               const out_t* bias, out_t* out, index_t item,
                               StagedSpans<index_t>& spans, col_t* staging) {
  const StagedTile<index_t> t = staged_tile(k, item);
  for (index_t s = 0; s < k.h.kernel + k.w.kernel; ++s) staged_set_span(k, t, s, spans);
  const col_t* channel = staged_channel(k, columns, t);
  for (index_t r = 0; r < staged_rows(k); ++r) {
    const StagedRow<index_t> row = staged_row(k, spans, r);
    for (index_t x = 0; x < row.count; ++x) staging[(r << k.x_shift) + x] = channel[row.src + x];
  }
  for (index_t e = 0; e < k.tile_rows * k.tile_cols; ++e)
    staged_pixel<acc_t>(k, t, spans, staging, bias, out, e);
}

}  // namespace gemm_convt
