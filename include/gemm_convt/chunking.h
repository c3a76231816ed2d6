#pragma once

// How the columns workspace is cut into chunks (host code, CPU and CUDA).
// The columns of a whole batch never exist at once. A chunk is as many whole
// samples as fit the budget; else one sample cut into bands of output rows
// (each band's GEMM covers the input rows its outputs need, so the few rows
// shared by two bands are computed twice and every output is still gathered
// exactly once); where even one output row of all channels is over budget, a
// band also holds fewer groups, then fewer channels (at least one channel and
// one output row, even over budget).
//
// The backward pass cuts bands of input rows instead (plan_backward_chunks):
// its im2col gathers from grad_output, so any band of input rows is made
// exactly on its own, with no halo.

#include <algorithm>
#include <cstdint>

#include "gemm_convt/geometry.h"

namespace gemm_convt {

// What the planner needs of the problem (one sample, the h axis).
struct ChunkProblem {
  int64_t batch, groups, channels_per_group;
  int64_t taps, in_h, in_w, out_h;
  int64_t stride_h, pad_h, reach_h;  // reach_h = dilation_h * (kernel_h - 1)
};

struct ChunkShape {
  int64_t samples, groups, channels;
  int64_t band;      // output rows per chunk (out_h: no banding)
  int64_t max_rows;  // input rows any chunk holds
  // Columns elements of the largest chunk: the workspace it needs.
  int64_t elems(const ChunkProblem& p) const {
    return samples * groups * channels * p.taps * max_rows * p.in_w;
  }
};

struct Chunk {
  int64_t n0, samples, g0, groups, c0, channels;
  int64_t out_row_begin, out_row_end;  // output rows this chunk owns
  int64_t row_begin, rows;             // input rows its columns hold
};

// Input rows whose column values land in output rows [begin, end).
inline void input_rows_of(const ChunkProblem& p, int64_t begin, int64_t end,
                          int64_t* row_begin, int64_t* rows) {
  const int64_t lo = std::max<int64_t>(0, -floor_div(-(begin + p.pad_h - p.reach_h), p.stride_h));
  const int64_t hi = std::min(p.in_h, floor_div(end - 1 + p.pad_h, p.stride_h) + 1);
  *row_begin = lo;
  *rows = std::max<int64_t>(0, hi - lo);
}

// At most this many input rows feed a band of `band` output rows.
inline int64_t rows_for_band(const ChunkProblem& p, int64_t band) {
  return std::min(p.in_h, (band - 1 + p.reach_h) / p.stride_h + 1);
}

// The same number of bands as bands of at most `most` rows make of `count`,
// but of even height: bands of 30, 30 and 4 rows become 22, 22 and 20. A thin
// last band runs its GEMM far below cuBLAS's rate (fcn_up: 16 GEMMs of a 4-row
// band took 352 us, 22% of its columns GEMMs' time); even bands took fcn_up's
// TF32 forward from 1.88 to 1.65-1.69 ms. Whole samples are not evened out:
// dcgan's 24+...+8 samples as 22+...+18 moved cuBLAS to a smaller tile (GEMMs
// 152 -> 188 us).
inline int64_t even_split(int64_t count, int64_t most) {
  if (count <= 0 || most <= 0) return std::max<int64_t>(most, 1);
  const int64_t pieces = (count + most - 1) / most;
  return (count + pieces - 1) / pieces;
}

inline ChunkShape plan_chunks(const ChunkProblem& p, int64_t budget_elems) {
  budget_elems = std::max<int64_t>(budget_elems, 1);
  const int64_t row_elems = p.taps * p.in_w;  // one input row of one channel
  const int64_t sample_elems = p.groups * p.channels_per_group * row_elems * p.in_h;
  if (sample_elems <= budget_elems) {
    const int64_t samples = std::min(p.batch, budget_elems / sample_elems);
    return {samples, p.groups, p.channels_per_group, p.out_h, p.in_h};
  }
  // One output row needs at most min_rows input rows; fit that, then widen the band.
  const int64_t min_rows = rows_for_band(p, 1);
  int64_t groups = p.groups, channels = p.channels_per_group;
  if (groups * channels * row_elems * min_rows > budget_elems) {
    const int64_t group_min = channels * row_elems * min_rows;
    if (group_min <= budget_elems) {
      groups = budget_elems / group_min;
    } else {
      groups = 1;
      channels = std::max<int64_t>(1, budget_elems / (row_elems * min_rows));
    }
  }
  const int64_t row_budget = std::max<int64_t>(1, budget_elems / (groups * channels * row_elems));
  int64_t band = p.out_h;
  if (row_budget < p.in_h) {  // rows_for_band(band) <= row_budget
    const int64_t most = (row_budget - 1) * p.stride_h - p.reach_h + 1;
    band = even_split(p.out_h, std::min(p.out_h, std::max<int64_t>(1, most)));
  }
  return {1, groups, channels, band, rows_for_band(p, band)};
}

// Calls fn(Chunk) for every chunk covering batch x groups x channels x output rows.
template <typename Fn>
void for_each_chunk(const ChunkProblem& p, const ChunkShape& shape, Fn&& fn) {
  for (int64_t n0 = 0; n0 < p.batch; n0 += shape.samples)
    for (int64_t g0 = 0; g0 < p.groups; g0 += shape.groups)
      for (int64_t c0 = 0; c0 < p.channels_per_group; c0 += shape.channels)
        for (int64_t r0 = 0; r0 < p.out_h; r0 += shape.band) {
          Chunk c{n0, std::min(shape.samples, p.batch - n0),
                  g0, std::min(shape.groups, p.groups - g0),
                  c0, std::min(shape.channels, p.channels_per_group - c0),
                  r0, std::min(p.out_h, r0 + shape.band), 0, 0};
          input_rows_of(p, c.out_row_begin, c.out_row_end, &c.row_begin, &c.rows);
          fn(c);
        }
}

// The backward pass: as many whole samples as fit (each sample also costs
// extra_per_pixel elements per input pixel: the caller's repacked input), else
// one sample in bands of input rows (ChunkShape::band counts input rows here);
// where one input row of all channels is over budget, one row of fewer groups,
// then fewer channels.
inline ChunkShape plan_backward_chunks(const ChunkProblem& p, int64_t budget_elems,
                                       int64_t extra_per_pixel) {
  budget_elems = std::max<int64_t>(budget_elems, 1);
  const int64_t row_elems = p.taps * p.in_w;  // one input row of one channel
  const int64_t group_row = p.channels_per_group * row_elems;
  const int64_t sample_elems = (p.groups * group_row + extra_per_pixel * p.in_w) * p.in_h;
  if (sample_elems <= budget_elems) {
    const int64_t samples = std::min(p.batch, budget_elems / sample_elems);
    return {samples, p.groups, p.channels_per_group, p.in_h, p.in_h};
  }
  if (p.groups * group_row <= budget_elems) {
    const int64_t band = even_split(p.in_h, std::min(p.in_h, budget_elems / (p.groups * group_row)));
    return {1, p.groups, p.channels_per_group, band, band};
  }
  if (group_row <= budget_elems) return {1, budget_elems / group_row, p.channels_per_group, 1, 1};
  return {1, 1, std::max<int64_t>(1, budget_elems / row_elems), 1, 1};
}

// Calls fn(Chunk) for every backward chunk, samples then bands of input rows
// then groups then channels (out_row_* unused).
template <typename Fn>
void for_each_backward_chunk(const ChunkProblem& p, const ChunkShape& shape, Fn&& fn) {
  for (int64_t n0 = 0; n0 < p.batch; n0 += shape.samples)
    for (int64_t r0 = 0; r0 < p.in_h; r0 += shape.band)
      for (int64_t g0 = 0; g0 < p.groups; g0 += shape.groups)
        for (int64_t c0 = 0; c0 < p.channels_per_group; c0 += shape.channels)
          fn(Chunk{n0, std::min(shape.samples, p.batch - n0),
                   g0, std::min(shape.groups, p.groups - g0),
                   c0, std::min(shape.channels, p.channels_per_group - c0),
                   0, 0, r0, std::min(shape.band, p.in_h - r0)});
}

}  // namespace gemm_convt
