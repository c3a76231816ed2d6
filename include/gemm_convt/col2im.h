#pragma once

// The col2im step, shared by the CPU loop and the CUDA kernel.

#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"

namespace gemm_convt {

// Output rows one col2im work item computes (compile-time: they live in
// registers). The rows are kTileRows consecutive rows of one stride phase, so
// they share their kernel taps and read consecutive input rows.
constexpr int kTileRows = 4;

// Channel-fastest outputs (channels_last): the work items come in tiles of
// kCol2imTileItems, ow_lanes output columns x channel_lanes channels of one
// (sample, group, h phase, segment), so that the GPU block computing a tile
// can store it channel-fastest through shared memory (runs of >= 32 bytes)
// while its warps still read the columns along the output columns. The CUDA
// block size equals it.
constexpr int kCol2imTileItems = 256;

// Width phases one block item (col2im_block.h) takes, and its output columns,
// at most (its sums live in registers).
constexpr int kMaxBlockGroups = 2;
constexpr int kMaxBlockColumns = 16;

// One chunk of work: the columns of `batch` samples x `groups` groups x
// `channels` output channels per group for the input rows
// [row_begin, row_begin + rows): column row (group, channel, tap) of sample n
// starts at n*col_stride_n + ((group*channels + channel)*taps + tap)*col_stride_row
// and holds rows*in_w values, input row h at (h - row_begin)*col_stride_h.
// Samples one after another:
//   col_stride_n = groups*channels*taps*rows*in_w, col_stride_row = rows*in_w;
// samples side by side along each column row (one GEMM for them all):
//   col_stride_n = rows*in_w, col_stride_row = batch*rows*in_w.
// Width folded by phase (geometry.h's WidthFold, in_w = out_w there): column
// x lies in phase plane x % col_phases at position x / col_phases, planes
// col_stride_phase apart, each holding the samples side by side.
// It owns the output rows [out_row_begin, out_row_end), all of whose column
// values lie in those input rows (the band planner guarantees it).
// `out` and `bias` are already offset to the chunk's first sample and channel,
// so in-chunk offsets stay small enough for 32-bit indexing in most problems.
template <typename index_t>
struct Col2imChunk {
  Axis<index_t> h, w;
  index_t batch, groups, channels;
  index_t channels_per_group;  // output-channel distance between two groups
  index_t row_begin, rows;     // input rows held by the columns
  index_t out_row_begin, out_row_end;
  // Cells t_h / stride_h (t_h = oh + pad_h) of the owned rows, per h phase
  // (phase_cells): floor(t_h / stride_h) and t_h % stride_h at both ends.
  index_t cell_begin, cell_begin_rem, cell_end, cell_end_rem;
  index_t cells;               // the most cells of any phase
  index_t cells_per_item;      // a multiple of kTileRows: how far one work item walks
  index_t col_stride_n, col_stride_row, col_stride_h;
  index_t col_phases, col_stride_phase;  // 1 and 0 unless width folded by phase
  index_t out_stride_n, out_stride_c, out_stride_h, out_stride_w;
  // Work items come in tiles of ow_lanes output columns x channel_lanes
  // channels, ow_tiles x channel_tiles tiles per (sample, group, h phase,
  // segment). Plain order: one item a tile (lanes 1), so output column fastest.
  // Tiled, for a channel-fastest output: ow_lanes * channel_lanes ==
  // kCol2imTileItems, and the tiles overhang the output columns and channels
  // (items outside them are idle).
  index_t ow_lanes, channel_lanes, ow_tiles, channel_tiles;
  // The work-item decomposition's divisors, precomputed (divider.h): on the
  // GPU the plain integer divisions cost more than the item's loads.
  Divider<index_t> by_tile_items, by_ow_lanes, by_ow_tiles, by_segments, by_stride_h,
      by_channel_tiles, by_groups, by_stride_w, by_col_phases;
  // Runs (col2im_run): taps disjoint on both axes, plain order, unfolded
  // columns. Each output then takes at most one column value, so a work item
  // is a run of rows_per_item owned output rows of one output column, copied
  // row by row; row_runs of them per (sample, group, channel, column).
  bool runs;
  index_t rows_per_item, row_runs;
  Divider<index_t> by_row_runs;
  // Blocks (col2im_block.h, width-folded columns): block_groups = G > 0, the
  // fold's phases, makes every work item a block of output columns (plain
  // order, ow_tiles = blocks per row); 0: off.
  index_t block_groups;
  bool block_vector_stores;  // GPU: whole blocks stored as vectors (contiguous, aligned rows)

  // Work items: cells_per_item cells of one output column of one h phase of
  // one channel of one sample.
  GEMM_CONVT_HD index_t segments() const { return (cells + cells_per_item - 1) / cells_per_item; }
  GEMM_CONVT_HD bool tiled() const { return channel_lanes > 1; }
  GEMM_CONVT_HD index_t items() const {
    if (runs) return batch * groups * channels * row_runs * w.out_size;
    return batch * groups * h.stride * segments() * channel_tiles * ow_tiles * ow_lanes * channel_lanes;
  }
  // Output pixels one work item writes, at most.
  GEMM_CONVT_HD index_t item_pixels() const {
    return runs ? rows_per_item : cells_per_item * (block_groups > 0 ? index_t(kMaxBlockColumns) : 1);
  }
};

// The cells [first, end) of h phase `phase` whose rows the chunk owns:
// t_h = cell * stride_h + phase lies in [out_row_begin, out_row_end) + pad_h.
template <typename index_t>
struct PhaseCells {
  index_t first, end;
};

template <typename index_t>
GEMM_CONVT_HD PhaseCells<index_t> phase_cells(const Col2imChunk<index_t>& k, index_t phase) {
  return PhaseCells<index_t>{k.cell_begin + (phase < k.cell_begin_rem ? 1 : 0),
                             k.cell_end + (phase < k.cell_end_rem ? 1 : 0)};
}

// Offset of column x within its input row's values.
template <typename index_t>
GEMM_CONVT_HD index_t column_offset(const Col2imChunk<index_t>& k, index_t x) {
  if (k.col_phases == 1) return x;
  const index_t m = k.by_col_phases.div(x);
  return (x - m * k.col_phases) * k.col_stride_phase + m;
}

// Work item `item`, decomposed with its tile's output column fastest
// (coalesced loads along a row), then its tile's channel, the tile's output
// columns, the segment of cells, h phase, the tile's channels, group and
// sample. In plain order (lanes 1): output column, segment, h phase, channel,
// group, sample.
template <typename index_t>
struct Col2imItem {
  index_t n, grp, c, phase, segment, ow;
};

// Whether an item lies inside the output (a tiled item may overhang it).
template <typename index_t>
GEMM_CONVT_HD bool col2im_item_active(const Col2imChunk<index_t>& k, const Col2imItem<index_t>& it) {
  return it.ow < k.w.out_size && it.c < k.channels;
}

template <typename index_t>
GEMM_CONVT_HD Col2imItem<index_t> col2im_item(const Col2imChunk<index_t>& k, index_t item) {
  Col2imItem<index_t> it;
  index_t rest = k.by_tile_items.div(item);
  const index_t lane = item - rest * (k.ow_lanes * k.channel_lanes);
  const index_t c_lane = k.by_ow_lanes.div(lane);
  const index_t ow_lane = lane - c_lane * k.ow_lanes;
  item = rest;
  rest = k.by_ow_tiles.div(item);
  it.ow = (item - rest * k.ow_tiles) * k.ow_lanes + ow_lane;
  item = rest;
  rest = k.by_segments.div(item);
  it.segment = item - rest * k.segments();
  item = rest;
  rest = k.by_stride_h.div(item);
  it.phase = item - rest * k.h.stride;
  item = rest;
  rest = k.by_channel_tiles.div(item);
  it.c = (item - rest * k.channel_tiles) * k.channel_lanes + c_lane;
  item = rest;
  it.n = k.by_groups.div(item);
  it.grp = item - it.n * k.groups;
  return it;
}

// Sums kTileRows output pixels (rows oh0 + r*stride_h, column ow) of one
// channel from its columns onto acc (which holds the bias). hh is the first
// tap hitting row oh0 (rows one stride apart share their taps, row r reading
// input row q + r); hw that of column ow. Every tap visited is a hit: the
// loops step from hit to hit with no division.
template <typename acc_t, typename index_t, typename col_t>
GEMM_CONVT_HD void col2im_tile_sums(const Col2imChunk<index_t>& k, const col_t* channel,
                                    AxisHit<index_t> hh, AxisHit<index_t> hw,
                                    acc_t (&acc)[kTileRows]) {
  const Axis<index_t>& ah = k.h;
  const Axis<index_t>& aw = k.w;
  const index_t row_end = k.row_begin + k.rows;
  for (index_t i = hh.k, q = hh.q; i < ah.kernel && q + kTileRows > k.row_begin;
       i += ah.hit_step, q -= ah.hit_q_step) {
    if (q >= row_end) continue;
    for (index_t j = hw.k, x = hw.q; j < aw.kernel && x >= 0;
         j += aw.hit_step, x -= aw.hit_q_step) {
      if (x >= aw.in_size) continue;
      const index_t row = column_row(index_t(0), i, j, ah.kernel, aw.kernel);
      const col_t* src =
          channel + row * k.col_stride_row + (q - k.row_begin) * k.col_stride_h + column_offset(k, x);
#pragma unroll
      for (int r = 0; r < kTileRows; ++r) {
        const index_t qr = q + r;
        if (qr >= k.row_begin && qr < row_end) acc[r] += static_cast<acc_t>(src[r * k.col_stride_h]);
      }
    }
  }
}

// The walk of one item's segment: its cells [cell0, cell_end) of its h phase,
// the output row oh0 of cell0, and that row's first tap.
template <typename index_t>
struct SegmentWalk {
  index_t cell0, cell_end, oh0;
  AxisHit<index_t> hh;
};

template <typename index_t>
GEMM_CONVT_HD SegmentWalk<index_t> segment_walk(const Col2imChunk<index_t>& k,
                                                const Col2imItem<index_t>& it) {
  const PhaseCells<index_t> cells = phase_cells(k, it.phase);
  SegmentWalk<index_t> s;
  s.cell0 = cells.first + it.segment * k.cells_per_item;
  s.cell_end = s.cell0 + k.cells_per_item < cells.end ? s.cell0 + k.cells_per_item : cells.end;
  s.oh0 = s.cell0 * k.h.stride + it.phase - k.h.pad;
  s.hh = first_hit(k.h, s.oh0, k.by_stride_h);
  return s;
}

// Walks one segment of output column (phase, ow) of one channel: its rows
// oh = cell * stride_h + phase - pad_h for the segment's cells, kTileRows at a
// time, handing each tile's sums (bias included) to store(oh0, acc). The taps
// are found once; from one tile to the next they read kTileRows rows further.
// An inactive item (a tiled item outside the output) sums nothing but still
// calls store once per tile, as the other items of its tile do.
template <typename acc_t, typename index_t, typename col_t, typename out_t, typename Store>
GEMM_CONVT_HD void col2im_column(const Col2imChunk<index_t>& k, const col_t* columns,
                                 const out_t* bias, const Col2imItem<index_t>& it, bool active,
                                 Store& store) {
  const index_t out_c = it.grp * k.channels_per_group + it.c;
  const acc_t b = bias && active ? static_cast<acc_t>(bias[out_c]) : acc_t(0);
  const index_t taps = k.h.kernel * k.w.kernel;
  const col_t* channel = columns + it.n * k.col_stride_n +
                         (it.grp * k.channels + it.c) * taps * k.col_stride_row;
  const AxisHit<index_t> hw = first_hit(k.w, it.ow, k.by_stride_w);
  SegmentWalk<index_t> s = segment_walk(k, it);
  for (index_t t = s.cell0; t < s.cell_end; t += kTileRows) {
    acc_t acc[kTileRows];
#pragma unroll
    for (int r = 0; r < kTileRows; ++r) acc[r] = b;
    if (active) col2im_tile_sums<acc_t>(k, channel, s.hh, hw, acc);
    store(s.oh0, acc);
    s.oh0 += kTileRows * k.h.stride;
    s.hh.q += kTileRows;
  }
}

// The rows of a tile (kTileRows rows one stride apart from oh0) that the chunk
// owns, stored at their pixels of one output column: for both stores below.
template <typename index_t>
struct Col2imOwnedRows {
  index_t stride_h, out_stride_h, out_row_begin, out_row_end;

  // pixel: the column's pixel in row 0; value(r): row r's sum.
  template <typename out_t, typename Value>
  GEMM_CONVT_HD void store(out_t* pixel, index_t oh0, const Value& value) const {
#pragma unroll
    for (int r = 0; r < kTileRows; ++r) {
      const index_t oh = oh0 + r * stride_h;
      if (oh >= out_row_begin && oh < out_row_end) pixel[oh * out_stride_h] = static_cast<out_t>(value(r));
    }
  }
};

template <typename index_t>
GEMM_CONVT_HD Col2imOwnedRows<index_t> col2im_owned_rows(const Col2imChunk<index_t>& k) {
  return Col2imOwnedRows<index_t>{k.h.stride, k.out_stride_h, k.out_row_begin, k.out_row_end};
}

// store for col2im_column: each item writes its own pixels (plain order, and
// tiled items on the CPU).
template <typename acc_t, typename index_t, typename out_t>
struct Col2imPixelStore {
  Col2imOwnedRows<index_t> rows;
  out_t* dst;  // the item's pixel in row 0

  GEMM_CONVT_HD void operator()(index_t oh0, const acc_t (&acc)[kTileRows]) {
    rows.store(dst, oh0, [&](int r) { return acc[r]; });
  }
};

// The item's pixel in output row 0 (out already offset to the chunk).
template <typename index_t, typename out_t>
GEMM_CONVT_HD out_t* col2im_item_pixel(const Col2imChunk<index_t>& k, out_t* out,
                                       const Col2imItem<index_t>& it) {
  return out + it.n * k.out_stride_n + (it.grp * k.channels_per_group + it.c) * k.out_stride_c +
         it.ow * k.out_stride_w;
}

// Work item `item` of a chunk of runs: output column fastest (coalesced
// loads and stores along a row), then the run of rows (segment), channel,
// group and sample.
template <typename index_t>
GEMM_CONVT_HD Col2imItem<index_t> col2im_run_item(const Col2imChunk<index_t>& k, index_t item) {
  Col2imItem<index_t> it;
  index_t rest = k.by_ow_tiles.div(item);  // ow_tiles == out_w in plain order
  it.ow = item - rest * k.ow_tiles;
  item = rest;
  rest = k.by_row_runs.div(item);
  it.segment = item - rest * k.row_runs;
  item = rest;
  rest = k.by_channel_tiles.div(item);  // channel_tiles == channels
  it.c = item - rest * k.channel_tiles;
  it.n = k.by_groups.div(rest);
  it.grp = rest - it.n * k.groups;
  it.phase = 0;
  return it;
}

// One run: the item's output column over its rows, each pixel its bias plus
// the one column value landing there, if any. The width tap is found once;
// along the rows the cell walk (geometry.h) advances without division. Same
// sums in the same order as col2im_column, so the same bits.
template <typename acc_t, typename index_t, typename col_t, typename out_t>
GEMM_CONVT_HD void col2im_run(const Col2imChunk<index_t>& k, const col_t* columns,
                              const out_t* bias, out_t* out, index_t item) {
  const Col2imItem<index_t> it = col2im_run_item(k, item);
  const index_t out_c = it.grp * k.channels_per_group + it.c;
  const acc_t b = bias ? static_cast<acc_t>(bias[out_c]) : acc_t(0);
  const index_t taps = k.h.kernel * k.w.kernel;
  const CellWalk<index_t> cw = cell_walk_at(k.w, it.ow, k.by_stride_w);
  const bool w_hit = cell_hit(k.w, cw) && cw.q < k.w.in_size;
  // Row (c, 0, j) of the channel's taps, at the input column the width tap reads.
  const col_t* src = columns + it.n * k.col_stride_n +
                     ((it.grp * k.channels + it.c) * taps + cw.tap) * k.col_stride_row + cw.q;
  const index_t row_step = k.w.kernel * k.col_stride_row;  // from tap (i, j) to (i + 1, j)
  const index_t oh0 = k.out_row_begin + it.segment * k.rows_per_item;
  const index_t oh_end = oh0 + k.rows_per_item < k.out_row_end ? oh0 + k.rows_per_item : k.out_row_end;
  CellWalk<index_t> ch = cell_walk_at(k.h, oh0, k.by_stride_h);
  out_t* dst = col2im_item_pixel(k, out, it) + oh0 * k.out_stride_h;
  for (index_t oh = oh0; oh < oh_end; ++oh) {
    acc_t acc = b;
    const index_t q = ch.q - k.row_begin;
    if (w_hit && cell_hit(k.h, ch) && q >= 0 && q < k.rows)
      acc += static_cast<acc_t>(src[ch.tap * row_step + q * k.col_stride_h]);
    *dst = static_cast<out_t>(acc);
    dst += k.out_stride_h;
    cell_step(k.h, ch);
  }
}

// One work item, each pixel written by the item itself (items outside the
// output do nothing).
template <typename acc_t, typename index_t, typename col_t, typename out_t>
GEMM_CONVT_HD void col2im_item_direct(const Col2imChunk<index_t>& k, const col_t* columns,
                                      const out_t* bias, out_t* out, index_t item) {
  const Col2imItem<index_t> it = col2im_item(k, item);
  if (!col2im_item_active(k, it)) return;
  Col2imPixelStore<acc_t, index_t, out_t> store{col2im_owned_rows(k), col2im_item_pixel(k, out, it)};
  col2im_column<acc_t>(k, columns, bias, it, true, store);
}

}  // namespace gemm_convt
