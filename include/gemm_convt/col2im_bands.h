#pragma once

// col2im over band tiles, shared by the CPU loop and the CUDA kernel (plain
// order, unfolded columns whose input rows lie one after another).
//
// A tile is band_rows owned output rows x band_channels channels x
// band_samples samples of one group. Its column values are, per (channel,
// tap), one contiguous run of the tap's column row: the input rows [q_begin,
// q_end) whose taps land in the band, of each sample (several samples only
// where they lie side by side and the band takes all the chunk's rows, so
// that their runs join: small planes then make fewer, longer copies). The tile first stages those runs (the GPU: the bulk copy engine
// into shared memory, the next tile's copies in flight while this one sums;
// the item walk's per-thread loads reach ~1.5 TB/s, staged runs stream), then
// every pixel is summed from the staging by the item walk's own tile sums
// (col2im_tile_sums: bias, then taps by h, then w), so the same bits.
//
// Staging slot r = channel * taps + tap holds its run from value band_lead on:
// the GPU copies whole 16-byte units, so a run starts at its source address's
// offset within one, and the values around it up to the units' ends are
// copied too (not used; the caller leaves 16 bytes after the columns).

#include <cstdint>

#include "gemm_convt/col2im.h"

namespace gemm_convt {

constexpr int kBandAlignBytes = 16;
// Staging bytes a tile may take: a GPU block holds two (the tile it sums and
// the next) beside its two barriers, and an H100 multiprocessor four blocks.
constexpr int64_t kBandStageBytes = 26 * 1024;
// Work items a tile aims at: the GPU block's threads.
constexpr int kBandThreads = 256;

template <typename index_t>
struct BandTile {
  index_t n0, samples, grp, c0, channels;  // samples [n0, ..), channels [c0, ..) of the chunk
  index_t oh_begin, oh_end;      // owned output rows of the band
  index_t q_begin, q_end;        // input rows whose taps land there (within the chunk's)
};

// a / b rounded up, for a of any sign (b > 0).
template <typename index_t>
GEMM_CONVT_HD index_t band_ceil_div(index_t a, index_t b) {
  return a >= 0 ? (a + b - 1) / b : -((-a) / b);
}

// Tile `tile` of a chunk: band fastest, then channel tile, group, sample tile.
template <typename index_t>
GEMM_CONVT_HD BandTile<index_t> band_tile(const Col2imChunk<index_t>& k, index_t tile) {
  BandTile<index_t> t;
  index_t rest = k.by_bands.div(tile);
  const index_t band = tile - rest * k.bands;
  tile = rest;
  rest = k.by_band_channel_tiles.div(tile);
  t.c0 = (tile - rest * k.band_channel_tiles) * k.band_channels;
  t.channels = k.channels - t.c0 < k.band_channels ? k.channels - t.c0 : k.band_channels;
  const index_t sample_tile = k.by_groups.div(rest);
  t.grp = rest - sample_tile * k.groups;
  t.n0 = sample_tile * k.band_samples;
  t.samples = k.batch - t.n0 < k.band_samples ? k.batch - t.n0 : k.band_samples;
  t.oh_begin = k.out_row_begin + band * k.band_rows;
  t.oh_end = t.oh_begin + k.band_rows < k.out_row_end ? t.oh_begin + k.band_rows : k.out_row_end;
  // q * stride - pad + i * dilation in [oh_begin, oh_end) for some tap i: the
  // last tap bounds q from below, the first from above.
  const Axis<index_t>& a = k.h;
  const index_t reach = (a.kernel - 1) * (a.dil_div * a.stride + a.dil_mod);
  const index_t lo = band_ceil_div<index_t>(t.oh_begin + a.pad - reach, a.stride);
  const index_t hi = band_ceil_div<index_t>(t.oh_end + a.pad, a.stride);
  const index_t row_end = k.row_begin + k.rows;
  t.q_begin = lo > k.row_begin ? lo : k.row_begin;
  t.q_end = hi < row_end ? hi : row_end;
  if (t.q_end < t.q_begin) t.q_end = t.q_begin;
  return t;
}

template <typename index_t>
GEMM_CONVT_HD index_t band_tiles(const Col2imChunk<index_t>& k) {
  return k.band_sample_tiles * k.groups * k.band_channel_tiles * k.bands;
}

// Items of a tile (those of channels past a partial tile's end do nothing).
template <typename index_t>
GEMM_CONVT_HD index_t band_items(const Col2imChunk<index_t>& k, const BandTile<index_t>& t) {
  return t.samples * k.band_channels * k.h.stride * k.band_segments * k.w.out_size;
}

// Input values of one sample's run.
template <typename index_t>
GEMM_CONVT_HD index_t band_sample_values(const Col2imChunk<index_t>& k, const BandTile<index_t>& t) {
  return (t.q_end - t.q_begin) * k.w.in_size;
}

// Values before a run's first one in its staging slot: its source address's
// offset within a 16-byte unit.
template <typename col_t>
GEMM_CONVT_HD int64_t band_lead(const col_t* p) {
  return int64_t((reinterpret_cast<uintptr_t>(p) % kBandAlignBytes) / sizeof(col_t));
}

// The first column value of sample n, channel c (of the chunk): its tap row 0.
template <typename index_t, typename col_t>
GEMM_CONVT_HD const col_t* band_channel(const Col2imChunk<index_t>& k, const col_t* columns,
                                        const BandTile<index_t>& t, index_t n, index_t c) {
  return columns + n * k.col_stride_n +
         (t.grp * k.channels + c) * k.h.kernel * k.w.kernel * k.col_stride_row;
}

// Run r of a tile (r = local channel * taps + tap row): its source, length
// and staging slot.
template <typename col_t>
struct BandRun {
  const col_t* src;
  int64_t count, lead;
  int64_t slot;  // the slot's first value in the staging
};

template <typename index_t, typename col_t>
GEMM_CONVT_HD BandRun<col_t> band_run(const Col2imChunk<index_t>& k, const col_t* columns,
                                      const BandTile<index_t>& t, index_t r) {
  const index_t taps = k.h.kernel * k.w.kernel;
  const index_t cl = r / taps;
  const col_t* src = band_channel(k, columns, t, t.n0, t.c0 + cl) +
                     (r - cl * taps) * k.col_stride_row + (t.q_begin - k.row_begin) * k.col_stride_h;
  return BandRun<col_t>{src, int64_t(t.samples) * band_sample_values(k, t), band_lead(src),
                        int64_t(r) * k.band_slot};
}

// col2im_tile_sums's source for one (sample, channel) of a staged tile.
template <typename index_t, typename col_t>
struct BandColumns {
  const col_t* slots;    // the channel's tap row 0 slot in the staging, at the sample's values
  const col_t* runs;     // the channel's tap row 0 run in the columns (for the leads)
  index_t slot_values, col_stride_row, q_begin, in_w;

  GEMM_CONVT_HD index_t h_stride() const { return in_w; }
  GEMM_CONVT_HD const col_t* at(index_t row, index_t q, index_t x) const {
    return slots + row * slot_values + band_lead(runs + row * col_stride_row) + (q - q_begin) * in_w + x;
  }
};

// Item u of a staged tile: output column fastest, then segment of kTileRows
// cells, h phase, channel, sample. Sums its cells' pixels (the rows of the
// band) from the staging and stores them.
template <typename acc_t, typename index_t, typename col_t, typename out_t>
GEMM_CONVT_HD void band_item(const Col2imChunk<index_t>& k, const BandTile<index_t>& t,
                             const col_t* columns, const col_t* staging, const out_t* bias,
                             out_t* out, index_t u) {
  index_t rest = k.by_ow_tiles.div(u);  // ow_tiles == out_w in plain order
  const index_t ow = u - rest * k.ow_tiles;
  u = rest;
  rest = k.by_band_segments.div(u);
  const index_t segment = u - rest * k.band_segments;
  u = rest;
  rest = k.by_stride_h.div(u);
  const index_t phase = u - rest * k.h.stride;
  const index_t nl = k.by_band_channels.div(rest);
  const index_t cl = rest - nl * k.band_channels;
  if (cl >= t.channels) return;
  // Cells t_h / stride (t_h = oh + pad) of this phase in the band's rows.
  const index_t s = k.h.stride, pad = k.h.pad;
  const index_t cell0 = k.by_stride_h.div(t.oh_begin + pad - phase + s - 1) + segment * kTileRows;
  if (cell0 >= k.by_stride_h.div(t.oh_end + pad - phase + s - 1)) return;
  const index_t c = t.c0 + cl, n = t.n0 + nl;
  const index_t taps = k.h.kernel * k.w.kernel;
  const index_t oh0 = cell0 * s + phase - pad;
  const BandColumns<index_t, col_t> src{
      staging + cl * taps * k.band_slot + nl * band_sample_values(k, t),
      band_channel(k, columns, t, t.n0, c) + (t.q_begin - k.row_begin) * k.col_stride_h,
      k.band_slot, k.col_stride_row, t.q_begin, k.w.in_size};
  const index_t out_c = t.grp * k.channels_per_group + c;
  const acc_t b = bias ? static_cast<acc_t>(bias[out_c]) : acc_t(0);
  acc_t acc[kTileRows];
#pragma unroll
  for (int r = 0; r < kTileRows; ++r) acc[r] = b;
  col2im_tile_sums<acc_t>(k, src, t.q_begin, t.q_end, first_hit(k.h, oh0, k.by_stride_h),
                          first_hit(k.w, ow, k.by_stride_w), acc);
  const Col2imOwnedRows<index_t> rows{s, k.out_stride_h, t.oh_begin, t.oh_end};
  out_t* pixel = out + n * k.out_stride_n + out_c * k.out_stride_c + ow * k.out_stride_w;
  rows.store(pixel, oh0, [&](int r) { return acc[r]; });
}

}  // namespace gemm_convt
