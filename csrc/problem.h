#pragma once

// Sizes and options of one conv_transpose2d call, and the translation of a
// chunk of work into the col2im step's description. Host code shared by the
// CPU and CUDA backends.

#include <ATen/ATen.h>

#include <array>
#include <cstdint>
#include <limits>

#include "gemm_convt/chunking.h"
#include "gemm_convt/col2im.h"
#include "gemm_convt/col2im_block.h"

namespace gemm_convt {

struct ConvTranspose2dOptions {
  std::array<int64_t, 2> stride, padding, output_padding, dilation;
  int64_t groups;
  int64_t workspace_bytes;  // cap on the columns buffer
  bool float_columns;       // half/bfloat16 inputs: keep the columns in float32
  bool allow_tf32;          // CUDA float32 GEMM may use TF32 tensor cores
  int split_tf32;           // CUDA float32 columns GEMM without TF32: three TF32 products
                            // (operand.cuh) instead of the IEEE SIMT GEMM: 1 yes, 0 no,
                            // -1 by split_tf32_takes
  int fold_w;               // kernel width folded into the GEMM: 1 yes, 0 no, -1 by width_fold_pays (CUDA)
  int disjoint_taps;        // CUDA, taps that never overlap: 1 the fused kernel, 0 never, -1 by its rule
  int direct_gather;        // 1 gather every output (CPU too), 0 never, -1 where CUDA's cost model picks it
  int implicit_gemm;        // CUDA tensor-core implicit GEMM: 1 wherever supported, 0 never, -1 by cost
  bool col2im_blocks;       // col2im takes blocks of output columns where they apply (col2im_block.h)
};

struct Problem {
  int64_t batch, in_channels, in_h, in_w;
  int64_t groups, in_per_group, out_per_group;
  int64_t kernel_h, kernel_w, out_h, out_w;
  // The output's rows contiguous (NCHW-like; set by the CUDA forward from its
  // output): the gather's row form writes along them, and only there.
  bool out_rows_contiguous = true;

  Problem(const at::Tensor& input, const at::Tensor& weight, const ConvTranspose2dOptions& o)
      : batch(input.size(0)), in_channels(input.size(1)), in_h(input.size(2)),
        in_w(input.size(3)), groups(o.groups), in_per_group(in_channels / o.groups),
        out_per_group(weight.size(1)), kernel_h(weight.size(2)), kernel_w(weight.size(3)),
        out_h(transposed_output_size(in_h, kernel_h, o.stride[0], o.padding[0],
                                     o.dilation[0], o.output_padding[0])),
        out_w(transposed_output_size(in_w, kernel_w, o.stride[1], o.padding[1],
                                     o.dilation[1], o.output_padding[1])) {}

  int64_t out_channels() const { return groups * out_per_group; }
  int64_t kernel_taps() const { return kernel_h * kernel_w; }
  int64_t in_pixels() const { return in_h * in_w; }

  // The backward pass's chunks within the budget (chunking.h), each sample
  // costing extra_per_pixel more elements per input pixel.
  ChunkProblem backward_chunk_problem() const {
    return ChunkProblem{batch, groups, out_per_group, kernel_taps(), in_h, in_w, out_h, 1, 0, 0};
  }
  ChunkShape backward_chunk_shape(int64_t workspace_bytes, int64_t elem_bytes,
                                  int64_t extra_per_pixel) const {
    return plan_backward_chunks(backward_chunk_problem(), workspace_bytes / elem_bytes,
                                extra_per_pixel);
  }
};

template <typename index_t>
Axis<index_t> height_axis(const Problem& p, const ConvTranspose2dOptions& o) {
  return make_axis<index_t>(p.in_h, p.out_h, p.kernel_h, o.stride[0], o.padding[0],
                            o.dilation[0]);
}

template <typename index_t>
Axis<index_t> width_axis(const Problem& p, const ConvTranspose2dOptions& o) {
  return make_axis<index_t>(p.in_w, p.out_w, p.kernel_w, o.stride[1], o.padding[1],
                            o.dilation[1]);
}

// Width strides above kMaxFoldPhases never fold: the CUDA unfold keeps each
// phase's taps in shared memory. Nor do shift spreads above
// kMaxFoldShiftSpread: the unfold holds the input columns a tile of positions
// reads (widened by the spread) in shared memory.
constexpr int64_t kMaxFoldShiftSpread = 64;

inline bool width_fold_applies(const Problem& p, const ConvTranspose2dOptions& o) {
  if (p.kernel_w <= 1 || o.stride[1] > kMaxFoldPhases) return false;
  const FoldShifts<int64_t> s = fold_shifts(width_axis<int64_t>(p, o), int64_t(o.stride[1]),
                                            Divider<int64_t>(o.stride[1]));
  return s.max - s.min <= kMaxFoldShiftSpread;
}

// Values of the folded weight the columns GEMM reads (parts: 3 split, else 1).
inline int64_t folded_weight_elems(const Problem& p, const WidthFold<int64_t>& f, int64_t parts) {
  return p.groups * f.phases * p.out_per_group * p.kernel_h * parts * p.in_per_group * f.taps;
}

// Whether the float32 columns GEMM without TF32 takes three TF32 products of
// split operands (operand.cuh) instead of cuBLAS's IEEE (SIMT) GEMM. By
// default (set_fp32_split(None)) where the width fold applies, is not turned
// off, and at least halves the column values: the products then run on
// folded, K-major operands at the sm90 TF32 rate. On the H100 that took dcgan
// 0.91 -> 0.61-0.71 ms and fcn_up's columns path 4.17 -> 2.27 ms (against
// 2.93 for the implicit GEMM), at a relative error of ~1e-6 against float64
// where the IEEE GEMM gives ~2e-7 (NOTES.md, session 26). Elsewhere the split
// operands are plain and cuBLAS runs them at about the SIMT GEMM's speed.
// Nor where the folded split weight (three parts of the folded K, made per
// call) takes more than half the workspace cap: it comes off the cap before
// the columns, and the chunks left are thin GEMMs. H200, session 34: N16
// 512->512 4x4 stride 2 on 16x16 (48 MiB of 64) split 1.47-1.53 ms against
// IEEE columns 0.89-0.96 and the implicit GEMM 0.81-0.92; dcgan (24 MiB)
// split 0.58 against IEEE 0.89.
inline bool split_tf32_takes(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype) {
  if (dtype != at::kFloat || o.allow_tf32 || o.split_tf32 == 0) return false;
  if (o.split_tf32 > 0) return true;
  if (o.fold_w == 0 || !width_fold_applies(p, o)) return false;
  const WidthFold<int64_t> f = width_fold(width_axis<int64_t>(p, o));
  return p.kernel_h * p.kernel_w * p.in_w >= 2 * p.kernel_h * f.phases * f.length &&
         2 * 4 * folded_weight_elems(p, f, 3) <= o.workspace_bytes;
}

// Whether col2im takes block items over a fold's columns (col2im_block.h):
// at most kMaxBlockGroups phases, rows of whole runs of column_bytes values.
// The layouts' strides are multiples of the fold's length, which
// col2im_block_groups checks again per chunk.
inline bool fold_takes_col2im_blocks(const Problem& p, const WidthFold<int64_t>& f,
                                     int64_t column_bytes) {
  if (f.phases > kMaxBlockGroups) return false;
  const int64_t lanes = block_lanes(int(column_bytes), int(f.phases));
  return p.out_w >= f.phases * lanes && f.length % lanes == 0;
}

// CUDA's default for width folding (set_width_folding(None)), from A/Bs of
// folded against plain columns on the H100: 13 shapes in three dtypes and a
// 4x4 stride-2 sweep of 64-512 channels in TF32 (NOTES.md, sessions 20 and
// 21). The fold pays where
// - the column bytes it saves (written by the GEMM, read by col2im) are at
//   least the bytes of the unfolded input it adds (written, then read by the
//   GEMM): #81's 3-tap stride 5 and a 3x3 stride 2 fail this and ran 0.56x
//   and 0.82x folded;
// - float32 in TF32 with >= 256 input channels per group (128 with blocks,
//   below), or columns shrunk at least 3x (stride-1 kernels of width >= 3,
//   6 wide at stride 2): cuBLAS
//   runs the plain columns GEMM at ~100-110 TFLOP/s there (sm80 kernels up to
//   K = 256, sm90 "nn" above) and the fold's K-major one at 180-290: these
//   picks ran 1.23x faster in geometric mean (26 forwards, 0.82-1.8x). With
//   64-192 channels and a 2x shrink the fold's kernels still summed lower, but
//   the forwards came out 0.76-1.9x by lease (host-paced): plain there;
// - float16 / bfloat16 with at most 128 input channels per group (any with
//   blocks, below) and a channel-strided (NCHW) input: writing the columns
//   bounds their plain GEMM and the fold ran 0.96-2.0x (1.15x or better on five of seven shapes). With
//   more channels their GEMM is bound by its products (level, 0.94-1.10x,
//   with session 20's col2im);
//   with channels_last input their plain GEMM reads it in place and the fold
//   ran 0.91-1.31x.
// Where col2im takes blocks over the folded columns (fold_takes_col2im_blocks:
// 1.2-1.4x faster alone, session 21) the fold's col2im got cheaper, and the
// sweep and half-type A/Bs were run again with them: TF32 folds from 128
// channels (128-192: 1.13-1.33x) and the half types at any channel count
// (256-512: 1.01-1.41x). 64 channels in TF32 stayed mixed (0.99-1.49x).
// Strict float32 folds through split_tf32_takes above (split TF32 products,
// session 26), not through this rule; the SIMT GEMM and float64 were not
// measured: plain.
inline bool width_fold_pays(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                            bool channels_last_input) {
  if (!width_fold_applies(p, o)) return false;
  const WidthFold<int64_t> f = width_fold(width_axis<int64_t>(p, o));
  const bool half = dtype == at::kHalf || dtype == at::kBFloat16;
  const int64_t esize = c10::elementSize(dtype);
  const int64_t col_esize = half && o.float_columns ? 4 : esize;
  // Per input row: column values plain and folded, values of the unfolded input.
  const int64_t plain = p.out_per_group * p.kernel_h * p.kernel_w * p.in_w;
  const int64_t folded = p.out_per_group * p.kernel_h * f.phases * f.length;
  const int64_t unfolded = p.in_per_group * f.taps * f.phases * f.length;
  if ((plain - folded) * col_esize < unfolded * esize) return false;
  const bool blocks = fold_takes_col2im_blocks(p, f, col_esize);
  if (dtype == at::kFloat && o.allow_tf32)
    return p.in_per_group >= (blocks ? 128 : 256) || plain >= 3 * folded;
  return half && (blocks || p.in_per_group <= 128) && !channels_last_input;
}

// The columns as the GEMM writes them. Plain: out_per_group*kh*kw rows per
// input pixel. Width folded (geometry.h's WidthFold): the width taps move into
// the GEMM's contraction, one stride phase of the output width at a time (the
// input unfolded per chunk, K = in_per_group * taps landing on a phase),
// leaving out_per_group*kh rows per (input row, output column): about kw /
// stride_w times fewer column values, and no products with taps that miss.
struct ColumnsShape {
  bool fold_w;
  int64_t taps;         // column rows per output channel: kh*kw, or kh folded
  int64_t width;        // column values per input row: in_w, or phases*length folded
  int64_t k_per_group;  // the GEMM's contraction: in_per_group, times fold.taps folded
  WidthFold<int64_t> fold;  // {1, in_w, 1} unless folded

  // fold_by_default: what set_width_folding(None) means here (CUDA:
  // width_fold_pays, or wherever it applies for split TF32; the CPU: plain).
  ColumnsShape(const Problem& p, const ConvTranspose2dOptions& o, bool fold_by_default) {
    const bool asked = o.fold_w > 0 || (o.fold_w < 0 && fold_by_default);
    fold_w = asked && width_fold_applies(p, o);
    fold = fold_w ? width_fold(width_axis<int64_t>(p, o)) : WidthFold<int64_t>{1, p.in_w, 1};
    taps = fold_w ? p.kernel_h : p.kernel_taps();
    width = fold.phases * fold.length;
    k_per_group = p.in_per_group * fold.taps;
  }

  ChunkProblem chunk_problem(const Problem& p, const ConvTranspose2dOptions& o) const {
    return ChunkProblem{p.batch, p.groups, p.out_per_group, taps, p.in_h, width, p.out_h,
                        o.stride[0], o.padding[0], o.dilation[0] * (p.kernel_h - 1)};
  }
};

// Where a chunk's columns put its samples (col2im.h): one after another, or
// side by side along each column row, so that one GEMM per group makes the
// columns of all of them (K x (samples * pixels); worth it where a sample
// has few pixels). Width folded: phase planes of samples side by side.
struct ColumnsLayout {
  int64_t sample_stride, row_stride, h_stride, phases, phase_stride;
};

inline ColumnsLayout columns_layout(const ColumnsShape& cs, const Chunk& c, bool samples_side_by_side) {
  if (cs.fold_w) {
    const int64_t plane = c.samples * c.rows * cs.fold.length;
    return {c.rows * cs.fold.length, cs.fold.phases * plane, cs.fold.length, cs.fold.phases, plane};
  }
  const int64_t band = c.rows * cs.width;
  if (samples_side_by_side) return {band, c.samples * band, cs.width, 1, 0};
  return {c.groups * c.channels * cs.taps * band, band, cs.width, 1, 0};
}

// Columns are stored in the input dtype, or in float for half/bfloat16 inputs
// when options.float_columns asks for it (one rounding, at the output, at twice
// the columns traffic).
inline at::ScalarType column_dtype(at::ScalarType t, bool float_columns) {
  return (float_columns && (t == at::kHalf || t == at::kBFloat16)) ? at::kFloat : t;
}

// One past the largest offset a chunk forms in an output-shaped tensor (the
// output, or grad_output), counted from the chunk's first sample and channel.
inline int64_t chunk_output_span(const Problem& p, const Chunk& c, const at::Tensor& t) {
  int64_t span = 1;
  const int64_t extents[4] = {c.samples, (c.groups - 1) * p.out_per_group + c.channels,
                              p.out_h, p.out_w};
  for (int d = 0; d < 4; ++d) span += (extents[d] - 1) * t.stride(d);
  return span;
}

// Whether every offset the col2im step forms for this chunk fits index_t with
// `headroom` to spare (the CUDA grid-stride loop adds up to its grid size).
template <typename index_t>
bool chunk_fits(const Problem& p, const ConvTranspose2dOptions& o, const ColumnsShape& cs,
                const Chunk& c, const at::Tensor& out, int64_t headroom) {
  const int64_t columns = c.samples * c.groups * c.channels * cs.taps * c.rows * cs.width;
  const int64_t out_span = chunk_output_span(p, c, out);
  // Tiled items (channel-fastest outputs) overhang the channels and columns by
  // less than a tile's 32 lanes each.
  const int64_t items = c.samples * c.groups * (c.channels + 31) * o.stride[0] * (p.out_w + 31) *
                        (p.out_h / o.stride[0] + 2);
  const int64_t limit = std::numeric_limits<index_t>::max() - headroom;
  return columns <= limit && out_span <= limit && items <= limit;
}

inline int64_t pow2_at_least(int64_t n) {
  int64_t p = 1;
  while (p < n) p *= 2;
  return p;
}

// Lanes of col2im's tiled items (col2im.h) for a channel-fastest output
// (channels_last) with at least 8 of the chunk's channels to store side by side;
// 1: plain order. Output columns take the power of two covering the row, 8 to
// 32 (32 measured fastest where the row is that wide, in float32 and float16;
// 16 for dcgan's 16-wide rows), channels the rest of the tile, fewer where the
// chunk has fewer.
inline int64_t col2im_channel_lanes(const Problem& p, const Chunk& c, const at::Tensor& out) {
  if (out.stride(1) != 1 || c.channels < 8) return 1;
  const int64_t ow_lanes = std::min<int64_t>(32, std::max<int64_t>(8, pow2_at_least(p.out_w)));
  return std::min(kCol2imTileItems / ow_lanes, std::max<int64_t>(8, pow2_at_least(c.channels)));
}

// col2im's block items (col2im_block.h): G, the width phases a block takes,
// or 0 where items stay single output columns. Blocks need width-folded
// columns of at most kMaxBlockGroups phases, rows at least a block wide, and
// column strides in whole runs, so that every run lies inside one row and
// starts on a vector boundary (the GPU's vector loads rely on it). The item
// walk stays wherever the columns are unfolded: there each tap's run starts
// at its own offset, and the blocks ran 1.5-2.4x slower (NOTES.md, session 21).
inline int64_t col2im_block_groups(const Problem& p, const ColumnsShape& cs,
                                   const ColumnsLayout& layout, int64_t column_bytes) {
  if (!cs.fold_w || !fold_takes_col2im_blocks(p, cs.fold, column_bytes)) return 0;
  const int64_t groups = cs.fold.phases;
  const int64_t lanes = block_lanes(int(column_bytes), int(groups));
  const int64_t strides[4] = {layout.sample_stride, layout.row_stride, layout.h_stride,
                              layout.phase_stride};
  for (int64_t s : strides)
    if (s % lanes != 0) return 0;
  return groups;
}

// target_items: how many work items the caller wants (the GPU: enough threads
// to fill it); each walks as many cells as that leaves (a multiple of kTileRows).
// column_bytes: the size of one column value; blocks: whether col2im may take
// block items (col2im_block_groups decides where they apply).
template <typename index_t>
Col2imChunk<index_t> make_col2im_chunk(const Problem& p, const ConvTranspose2dOptions& o,
                                       const ColumnsShape& cs, const Chunk& c,
                                       const ColumnsLayout& layout, const at::Tensor& out,
                                       int64_t target_items, int64_t column_bytes, bool blocks) {
  Col2imChunk<index_t> k{};
  k.h = height_axis<index_t>(p, o);
  k.w = cs.fold_w ? folded_axis<index_t>(p.out_w) : width_axis<index_t>(p, o);
  k.batch = index_t(c.samples);
  k.groups = index_t(c.groups);
  k.channels = index_t(c.channels);
  k.channels_per_group = index_t(p.out_per_group);
  k.row_begin = index_t(c.row_begin);
  k.rows = index_t(c.rows);
  k.out_row_begin = index_t(c.out_row_begin);
  k.out_row_end = index_t(c.out_row_end);
  // Cells t_h / stride_h (t_h = oh + pad_h) of the owned rows, per h phase:
  // each phase walks only its own (a band's ends would otherwise add a tile).
  const int64_t t_begin = c.out_row_begin + o.padding[0], t_end = c.out_row_end + o.padding[0];
  k.cell_begin = index_t(t_begin / o.stride[0]);
  k.cell_begin_rem = index_t(t_begin % o.stride[0]);
  k.cell_end = index_t(t_end / o.stride[0]);
  k.cell_end_rem = index_t(t_end % o.stride[0]);
  int64_t cells = 0;
  for (int64_t phase = 0; phase < o.stride[0]; ++phase) {
    const PhaseCells<index_t> pc = phase_cells(k, index_t(phase));
    cells = std::max<int64_t>(cells, int64_t(pc.end) - int64_t(pc.first));
  }
  k.cells = index_t(cells);
  const int64_t channel_lanes = col2im_channel_lanes(p, c, out);
  // Taps that never overlap make col2im a permutation with the bias: runs of
  // rows copied one value per pixel (col2im_run), as many runs per column as
  // target_items asks for.
  k.runs = channel_lanes == 1 && !cs.fold_w &&
           taps_disjoint(p.kernel_h, o.stride[0], o.dilation[0]) &&
           taps_disjoint(p.kernel_w, o.stride[1], o.dilation[1]);
  const int64_t block_groups =
      blocks && channel_lanes == 1 ? col2im_block_groups(p, cs, layout, column_bytes) : 0;
  k.block_groups = index_t(block_groups);
  const int64_t ow_lanes = channel_lanes > 1 ? kCol2imTileItems / channel_lanes : 1;
  const int64_t block_columns =
      block_groups > 0 ? block_groups * block_lanes(int(column_bytes), int(block_groups)) : 1;
  const int64_t ow_tiles = (p.out_w + ow_lanes * block_columns - 1) / (ow_lanes * block_columns);
  const int64_t channel_tiles = (c.channels + channel_lanes - 1) / channel_lanes;
  k.ow_lanes = index_t(ow_lanes);
  k.channel_lanes = index_t(channel_lanes);
  k.ow_tiles = index_t(ow_tiles);
  k.channel_tiles = index_t(channel_tiles);
  const int64_t columns =  // work items per segment of cells
      c.samples * c.groups * o.stride[0] * channel_tiles * ow_tiles * ow_lanes * channel_lanes;
  const int64_t tiles = (cells + kTileRows - 1) / kTileRows;
  const int64_t segments = std::max<int64_t>(1, std::min(tiles, target_items / std::max<int64_t>(columns, 1)));
  k.cells_per_item = index_t((tiles + segments - 1) / segments * kTileRows);
  const int64_t owned_rows = c.out_row_end - c.out_row_begin;
  const int64_t run_columns = std::max<int64_t>(1, c.samples * c.groups * c.channels * p.out_w);
  const int64_t runs = std::max<int64_t>(1, std::min(owned_rows, target_items / run_columns));
  const int64_t rows_per_item = std::max<int64_t>(1, (owned_rows + runs - 1) / runs);
  k.rows_per_item = index_t(rows_per_item);
  k.row_runs = index_t((owned_rows + rows_per_item - 1) / rows_per_item);
  k.by_row_runs = Divider<index_t>(k.row_runs);
  k.by_segments = Divider<index_t>(k.segments());
  k.by_stride_h = Divider<index_t>(k.h.stride);
  k.by_stride_w = Divider<index_t>(k.w.stride);
  k.by_groups = Divider<index_t>(k.groups);
  k.col_stride_n = index_t(layout.sample_stride);
  k.col_stride_row = index_t(layout.row_stride);
  k.col_stride_h = index_t(layout.h_stride);
  k.col_phases = index_t(layout.phases);
  k.col_stride_phase = index_t(layout.phase_stride);
  k.by_col_phases = Divider<index_t>(k.col_phases);
  k.by_ow_lanes = Divider<index_t>(k.ow_lanes);
  k.by_tile_items = Divider<index_t>(k.ow_lanes * k.channel_lanes);
  k.by_ow_tiles = Divider<index_t>(k.ow_tiles);
  k.by_channel_tiles = Divider<index_t>(k.channel_tiles);
  k.out_stride_n = index_t(out.stride(0));
  k.out_stride_c = index_t(out.stride(1));
  k.out_stride_h = index_t(out.stride(2));
  k.out_stride_w = index_t(out.stride(3));
  return k;
}

// Offset of the chunk's first output element (sample n0, channel of g0/c0).
inline int64_t chunk_out_offset(const Problem& p, const Chunk& c, const at::Tensor& out) {
  return c.n0 * out.stride(0) + (c.g0 * p.out_per_group + c.c0) * out.stride(1);
}

inline int64_t chunk_first_channel(const Problem& p, const Chunk& c) {
  return c.g0 * p.out_per_group + c.c0;
}

}  // namespace gemm_convt
