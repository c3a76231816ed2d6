#pragma once

// col2im of width-folded columns over blocks of output columns, shared by the
// CPU loop and the CUDA kernel (plain order: channel-strided outputs).
//
// Folded columns (geometry.h's WidthFold) hold, per column row and input row,
// one plane per width phase g, position m of which belongs to output column
// g + G*m. A work item is kTileRows rows of one h phase (as in col2im.h) times
// a block of G*L consecutive output columns ow0 + g + G*u (u < L): in every
// plane it reads the L consecutive positions m0 .. m0+L-1 (m0 = block * L),
// which the GPU loads as one vector per row. col2im_block_groups (problem.h)
// takes blocks only where planes and rows hold whole runs, so no run crosses
// a row's end or a vector boundary. Sums are taken in col2im_tile_sums's
// order: the same bits as the item walk.

#include "gemm_convt/col2im.h"

namespace gemm_convt {

// Values of one run (L) for columns of col_bytes each: a 16-byte vector,
// fewer where G*L would pass kMaxBlockColumns.
GEMM_CONVT_HD constexpr int block_lanes(int col_bytes, int groups) {
  return 16 / col_bytes < kMaxBlockColumns / groups ? 16 / col_bytes : kMaxBlockColumns / groups;
}

// Adds the runs at src (L values, row r at src + r*h_stride) of the tile's
// rows lo <= r < hi onto acc[r][u]. The scalar form (the CPU's).
struct ScalarRuns {
  template <int L, typename acc_t, typename index_t, typename col_t>
  GEMM_CONVT_HD void add(const col_t* src, index_t h_stride, int lo, int hi,
                         acc_t (&acc)[kTileRows][L]) const {
#pragma unroll
    for (int r = 0; r < kTileRows; ++r) {
      if (r < lo || r >= hi) continue;
#pragma unroll
      for (int u = 0; u < L; ++u) acc[r][u] += static_cast<acc_t>(src[r * h_stride + u]);
    }
  }
};

// The sums of one tile of rows of a block: acc[g][r][u] is output row
// oh0 + r*stride_h, column ow0 + g + G*u, starting from the bias. hh is the
// first tap hitting row oh0.
template <int G, int L, typename acc_t, typename index_t, typename col_t, typename Runs>
GEMM_CONVT_HD void col2im_block_tile_sums(const Col2imChunk<index_t>& k, const col_t* block,
                                          AxisHit<index_t> hh, acc_t (&acc)[G][kTileRows][L],
                                          const Runs& runs) {
  const Axis<index_t>& ah = k.h;
  const index_t row_end = k.row_begin + k.rows;
  for (index_t i = hh.k, q = hh.q; i < ah.kernel && q + kTileRows > k.row_begin;
       i += ah.hit_step, q -= ah.hit_q_step) {
    if (q >= row_end) continue;
    const int lo = q < k.row_begin ? int(k.row_begin - q) : 0;
    const int hi = q + kTileRows > row_end ? int(row_end - q) : kTileRows;
    // Column row (channel, i) at input row q; folded, the kernel's width is 1.
    const col_t* src = block + i * k.col_stride_row + (q - k.row_begin) * k.col_stride_h;
#pragma unroll
    for (int g = 0; g < G; ++g)
      runs.template add<L>(src + g * k.col_stride_phase, k.col_stride_h, lo, hi, acc[g]);
  }
}

// Stores a tile of a block's sums, scalar: the rows the chunk owns, the
// columns inside the output (the CPU's form, and the GPU's at the row end).
template <int G, int L, typename acc_t, typename index_t, typename out_t>
GEMM_CONVT_HD void store_block_scalar(const Col2imChunk<index_t>& k, out_t* pixel, index_t oh0,
                                      index_t ow0, const acc_t (&acc)[G][kTileRows][L]) {
#pragma unroll
  for (int r = 0; r < kTileRows; ++r) {
    const index_t oh = oh0 + r * k.h.stride;
    if (oh < k.out_row_begin || oh >= k.out_row_end) continue;
#pragma unroll
    for (int u = 0; u < L; ++u)
#pragma unroll
      for (int g = 0; g < G; ++g)
        if (ow0 + g + G * u < k.w.out_size)
          pixel[oh * k.out_stride_h + (g + G * u) * k.out_stride_w] = static_cast<out_t>(acc[g][r][u]);
  }
}

struct ScalarBlockStore {
  template <int G, int L, typename acc_t, typename index_t, typename out_t>
  GEMM_CONVT_HD void operator()(const Col2imChunk<index_t>& k, out_t* pixel, index_t oh0,
                                index_t ow0, const acc_t (&acc)[G][kTileRows][L]) const {
    store_block_scalar<G, L>(k, pixel, oh0, ow0, acc);
  }
};

// One block item: its column segment, kTileRows rows at a time (taps found
// once per segment, as col2im_column does), each tile handed to
// store(k, pixel, oh0, ow0, acc) with pixel the block's first column in row 0.
template <int G, int L, typename acc_t, typename index_t, typename col_t, typename out_t,
          typename Runs, typename Store>
GEMM_CONVT_HD void col2im_block(const Col2imChunk<index_t>& k, const col_t* columns,
                                const out_t* bias, out_t* out, index_t item, const Runs& runs,
                                const Store& store) {
  // col2im_item with one block per "output column" (ow_tiles = blocks per
  // row, lanes 1): it.ow is the block's index in its row.
  const Col2imItem<index_t> it = col2im_item(k, item);
  const index_t out_c = it.grp * k.channels_per_group + it.c;
  const acc_t b = bias ? static_cast<acc_t>(bias[out_c]) : acc_t(0);
  const index_t m0 = it.ow * L;
  const col_t* block = columns + it.n * k.col_stride_n +
                       (it.grp * k.channels + it.c) * k.h.kernel * k.col_stride_row + m0;
  const index_t ow0 = m0 * G;
  out_t* pixel = out + it.n * k.out_stride_n + out_c * k.out_stride_c + ow0 * k.out_stride_w;
  SegmentWalk<index_t> s = segment_walk(k, it);
  for (index_t t = s.cell0; t < s.cell_end; t += kTileRows) {
    acc_t acc[G][kTileRows][L];
#pragma unroll
    for (int g = 0; g < G; ++g)
#pragma unroll
      for (int r = 0; r < kTileRows; ++r)
#pragma unroll
        for (int u = 0; u < L; ++u) acc[g][r][u] = b;
    col2im_block_tile_sums<G, L>(k, block, s.hh, acc, runs);
    store(k, pixel, s.oh0, ow0, acc);
    s.oh0 += kTileRows * k.h.stride;
    s.hh.q += kTileRows;
  }
}

}  // namespace gemm_convt
