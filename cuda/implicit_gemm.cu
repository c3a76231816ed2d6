#include "implicit_gemm.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "direct_gather.cuh"
#include "implicit_wgmma_host.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"
#include "mma_tf32.cuh"
#include "ptx.cuh"
#include "gemm_convt/implicit.h"

namespace gemm_convt {
namespace {

// A block takes kTileM output positions of one output row and one stride
// phase of the width (ow = phase + stride * m: the same taps land on all of
// them, tap t reading input columns base_t + m), times kTileN output channels.
// Per landing row tap and chunk of kChunkK input channels it stages the input
// row segment that every landing width tap reads (each tap's window is a shift
// of it) and those taps' weights, then runs mma.sync m16n8k8 TF32 over them.
// Short rows (kBanded): a block takes several whole phase rows of one row
// phase (include/gemm_convt/implicit.h), one staged segment each, and walks
// every landing tap of the row phase (rows outside the input stage zeros).
constexpr int kTileM = kImplicitTileM;
constexpr int kChunkK = 16;  // the staging roles below cover 16 channels with 4 warps
constexpr int kLd = kChunkK + 4;  // shared-memory row of 80 bytes: ldmatrix rows hit distinct banks
constexpr int kWarpsM = 4;        // warps along M, 32 positions each; kTileN / 32 along N
constexpr int kMaxSmemBytes = 200 * 1024;

struct ImplicitGemm {
  Axis<int32_t> h, w;
  Divider<int32_t> by_stride_h, by_stride_w;
  int cin_g, cout_g, groups, n_tiles, m_tiles;
  // Bands (rows > 1): phase rows per tile, tiles per row phase, phase rows per
  // sample and in all, a segment's staged quads (row stride 4 * segment_quads).
  int rows, bands, rows_per_sample, phase_rows, segment_quads;
  Divider<int32_t> by_rows_per_sample, by_segment_rows;
  int a_rows, b_rows;  // rows of a buffer's input tile (max_span, or the bands' segments) and weight tile
  int cin_pad, cout_pad;  // the packed weight's channel extents
  int64_t grid_x, grid_y;  // see the kernel's block index (one row, or bands)
  int64_t x_sn, x_sc, x_sh, x_sw, o_sn, o_sc, o_sh, o_sw;
};

// The packed weight's extents (pack_weight) and the weight's strides.
struct PackedWeight {
  int groups, kh, kw, cin_g, cout_g, cin_pad, cout_pad;
  int64_t s_in, s_out, s_h, s_w;
  bool round_tf32;
};

// Input columns a tile's taps read: kTileM plus the shifts between the taps,
// plus up to 6 for 4-column alignment, rounded up to the staging loop's 8.
int max_span(const Axis<int32_t>& w) {
  return (kTileM + (max_width_hits(w) - 1) * w.hit_q_step + 6 + 7) / 8 * 8;
}

size_t smem_bytes(const ImplicitGemm& d) {  // two buffers
  return 2 * size_t(d.a_rows + d.b_rows) * kLd * sizeof(float);
}

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
// Four 8x8 tiles of 32-bit values (8 rows of 16 bytes each): lane l gives the
// row address of tile l / 8, row l % 8, and receives from tile i the value at
// row l / 4, word l % 4 in r[i]: an m16n8k8 TF32 operand fragment.
// address: the row's shared-memory address.
__device__ __forceinline__ void load_tiles(uint32_t address, uint32_t (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}

// One step of the contraction: a landing row tap (kernel row i reading input
// row q) and a chunk of kChunkK input channels from ci0. i == kernel: none.
struct Step {
  int i, q, ci0;
};

// Bands: q is the input row of phase row 0 (rows read q + r), and every
// landing tap of the row phase is a step.
template <bool kBanded>
__device__ __forceinline__ Step first_step(const ImplicitGemm& d, int oh) {
  if (kBanded) {
    const RowTap<int32_t> t = first_band_tap(d.h, oh, d.by_stride_h);
    return Step{t.i, t.q, 0};
  }
  const RowTap<int32_t> t = first_row_tap(d.h, oh, d.by_stride_h);
  return Step{t.i, t.q, 0};
}

template <bool kBanded>
__device__ __forceinline__ Step next_step(const ImplicitGemm& d, Step s) {
  s.ci0 += kChunkK;
  if (s.ci0 < d.cin_g) return s;
  if (kBanded) {
    const RowTap<int32_t> t = next_band_tap(d.h, RowTap<int32_t>{s.i, s.q});
    return Step{t.i, t.q, 0};
  }
  const RowTap<int32_t> t = next_row_tap(d.h, RowTap<int32_t>{s.i, s.q});
  return Step{t.i, t.q, 0};
}

// The widest input segment a block stages (columns; beyond it the problem
// takes another path): a thread holds its share of the next step's input in
// registers while the tensor cores work on this one.
constexpr int kMaxSpan = kImplicitMaxSpan;

// How a block loads its input: one value at a time (any strides), four
// neighbouring columns of an aligned NCHW row, or four neighbouring channels
// of an aligned channels_last pixel.
enum InputLoad : int { kScalarLoad = 0, kColumnQuads = 1, kChannelQuads = 2 };

// Four neighbouring input values, loaded as one.
template <typename T>
struct alignas(4 * sizeof(T)) Quad {
  T v[4];
};

// Split float32 is exact for finite values only (inf - inf in the low part,
// 0 x inf in a cross product). A product that meets an infinity or NaN makes
// its outputs non-finite, and torch's would be non-finite too (or our output
// overflowed): the first launch flags such an output in redo, and a second,
// guarded launch (kGuard) returns at once unless redo is set, else recomputes
// every output with guarded splits. Finite outputs come out bitwise the same.
// One block of the grid (block_x, block_y: the kernel's block index below).
template <typename scalar_t, int kTileN, bool kSplit, bool kGuard, bool kBanded, int kLoad>
__device__ __forceinline__ void implicit_gemm_block(const ImplicitGemm& d, const scalar_t* __restrict__ x,
                                                    const float* __restrict__ packed, int* __restrict__ redo,
                                                    const scalar_t* __restrict__ bias,
                                                    scalar_t* __restrict__ out, int block_x, int block_y) {
  constexpr int kThreads = kWarpsM * kTileN;
  constexpr int kColStep = kThreads / 128 * 8;  // input columns apart of one thread's values
  constexpr bool kVec = kLoad == kColumnQuads;
  constexpr int kHeld = kLoad == kScalarLoad ? kMaxSpan / kColStep : 1;  // input values per thread and step
  constexpr int kQuadStep = kThreads / kChunkK;          // kVec: quads apart of one thread's
  // Quads per thread and step: kMaxSpan / 4 x 16 channels, or kMaxSpan x 4 channel quads.
  constexpr int kQuadsHeld = kLoad == kScalarLoad ? 1 : (kMaxSpan * 4 + kThreads - 1) / kThreads;
  extern __shared__ __align__(16) float smem[];
  // One row: x = (output row, width phase, position tile), y = (sample, group,
  // channel tile). Bands: x = (row phase, band, width phase), y = (group,
  // channel tile); oh is then the row phase, and phase row row0 + s (sample n,
  // row r) the block's segment s, staged at tile rows s * segment_rows on.
  int oh, phase, m0 = 0, row0 = 0, rows_here = 1;
  if (kBanded) {
    const int band_block = block_x / d.w.stride;
    phase = block_x - band_block * d.w.stride;
    oh = band_block / d.bands;
    row0 = (band_block - oh * d.bands) * d.rows;
    rows_here = min(d.rows, d.phase_rows - row0);
  } else {
    const int row_blocks = d.w.stride * d.m_tiles;
    oh = block_x / row_blocks;
    const int rest = block_x - oh * row_blocks;
    phase = rest / d.m_tiles, m0 = (rest - phase * d.m_tiles) * kTileM;
  }
  const int count = phase_length(d.w, phase);
  if (m0 >= count) return;  // the phase is shorter than the widest one
  const int plane = block_y, n_tile = plane % d.n_tiles, ng = plane / d.n_tiles;
  const int n = kBanded ? 0 : ng / d.groups, g = ng - n * d.groups, co0 = n_tile * kTileN;
  const int row_phase_rows = kBanded ? phase_length(d.h, oh) : 1;
  const int segment_rows = 4 * d.segment_quads;
  // Bands: phase row row0 + s as (sample, row); row >= row_phase_rows: none.
  const auto segment_row = [&](int s, int& sample) {
    const int rho = row0 + s;
    sample = d.by_rows_per_sample.div(rho);
    return rho - sample * d.rows_per_sample;
  };

  const PhaseTaps<int32_t> hw = phase_taps(d.w, phase, d.by_stride_w);
  const int w_hits = hw.hits;
  // A phase's last tile may be short: only its positions are staged, and warps
  // with none skip the tensor-core work.
  const int valid = kBanded ? rows_here * count : min(kTileM, count - m0);
  const int span = (kBanded ? count : valid) + (w_hits > 0 ? w_hits - 1 : 0) * d.w.hit_q_step;
  const int col_lo = hw.base - (w_hits > 0 ? w_hits - 1 : 0) * d.w.hit_q_step + m0;
  // kVec: tile row c holds input column col_base + c, col_base a multiple of 4.
  const int shift = kVec ? (col_lo & 3) : 0, col_base = col_lo - shift;
  const int quads = (shift + span + 3) / 4;  // per segment
  // Tile rows staged: bands stage every segment's whole quads (zeros where none);
  // one row its span (kVec: shifted, in whole quads).
  const int staged_rows = kBanded ? rows_here * segment_rows : kVec ? 4 * quads : (span + 7) / 8 * 8;
  // Two buffers, each [input column][channel] (kLd per column) then
  // [width tap][output channel][channel].
  const int buffer_floats = (d.a_rows + d.b_rows) * kLd;

  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int warp_m = warp % kWarpsM, warp_n = warp / kWarpsM;
  const int tile_row = lane >> 3, tile_r = lane & 7;
  // Split float32: each step's products gather in part, then join acc with a
  // float32 add. The tensor cores' accumulation does not round to nearest:
  // one chain over all of K drifted to 9.3e-6 relative error on kb65 (K = 1344),
  // against 2.0e-6 on kb71 (K = 288).
  float acc[2][4][4], part[2][4][4];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int k = 0; k < 4; ++k) acc[i][j][k] = 0.0f, part[i][j][k] = 0.0f;

  const scalar_t* xg = x + n * d.x_sn + int64_t(g) * d.cin_g * d.x_sc;
  // Tile row c's input, the same at every step: its offset from xg plus the
  // step's row (sample, band row r, column), and r (the step reads input row
  // step.q + r; kNoRow: none, zeros). One row: column c of the segment; bands:
  // segment c / segment_rows, column c % segment_rows.
  constexpr int kNoRow = -(1 << 30);
  const auto tile_row_source = [&](int c, int64_t& offset) {
    int seg = 0, in_seg = c, sample = 0, r = 0;
    if (kBanded) {
      seg = d.by_segment_rows.div(c), in_seg = c - seg * segment_rows;
      r = segment_row(seg, sample);
    }
    const int col = col_base + in_seg;
    const bool inside = in_seg - shift < span && col >= 0 && col < d.w.in_size &&
                        (!kBanded || (seg < rows_here && r < row_phase_rows));
    offset = (kVec ? int64_t(col) : int64_t(col) * d.x_sw);  // kVec: unit stride
    if (kBanded) offset += sample * d.x_sn + int64_t(r) * d.x_sh;
    return inside ? r : kNoRow;
  };
  const auto row_inside = [&](const Step& s, int r) {  // one row: r = 0, and q inside already
    return unsigned(band_input_row(RowTap<int32_t>{s.i, s.q}, r)) < unsigned(d.h.in_size);
  };
  // Staging roles: 4 channels x 8 neighbouring columns per warp (32-byte
  // segments in NCHW; stores to the column-major rows conflict-free).
  const int stage_k = (warp & 3) * 4 + (lane >> 3);
  const int stage_c = (warp >> 2) * 8 + (lane & 7);
  scalar_t held[kHeld];
  Quad<scalar_t> held_quads[kQuadsHeld];
  // kVec roles: 16 channels x 2 neighbouring quads per warp (one 32-byte
  // sector per channel; the quads' stores to rows 4j..4j+3 of a channel are
  // conflict-free, the two quads 16 banks apart). Channel quads: thread e
  // takes tile row e / 4, channels 4 (e % 4) .. + 3.
  const int quad_k = lane >> 1, quad_j = (lane & 1) + 2 * warp;
  const int channel_quad = (int(threadIdx.x) & 3) * 4;
  // The held quads' sources (tile_row_source), found once per block; per step
  // where registers are short (the 64-channel three-product kernels of one row
  // spilled and ran 3% slower; bands, with their divisions, gained 9-14%; the
  // guarded rerun spilled ~200 bytes).
  constexpr bool kSourcesOnce = (kBanded || !kSplit) && !kGuard;
  const auto quad_source = [&](int u, int64_t& offset) {
    const int c = kVec ? 4 * (quad_j + u * kQuadStep) : (int(threadIdx.x) + u * kThreads) >> 2;
    offset = 0;
    return kLoad != kScalarLoad && c < staged_rows ? tile_row_source(c, offset) : kNoRow;
  };
  int64_t quad_offset[kSourcesOnce ? kQuadsHeld : 1];
  int quad_row[kSourcesOnce ? kQuadsHeld : 1];
#pragma unroll
  for (int u = 0; u < (kSourcesOnce ? kQuadsHeld : 0); ++u) quad_row[u] = quad_source(u, quad_offset[u]);
  const auto load_input = [&](const Step& s) {  // into registers; no wait here
    if (kLoad != kScalarLoad) {
      const bool channel_in = s.ci0 + (kVec ? quad_k : channel_quad) < d.cin_g;
      const scalar_t* src = xg + int64_t(s.q) * d.x_sh +
                            (kVec ? (s.ci0 + quad_k) * d.x_sc : s.ci0 + channel_quad);
#pragma unroll
      for (int u = 0; u < kQuadsHeld; ++u) {
        int64_t offset = kSourcesOnce ? quad_offset[u] : 0;
        const int r = kSourcesOnce ? quad_row[u] : quad_source(u, offset);
        if (channel_in && row_inside(s, r)) {  // whole quads in or out
          held_quads[u] = *reinterpret_cast<const Quad<scalar_t>*>(src + offset);
        } else {
#pragma unroll
          for (int e = 0; e < 4; ++e) held_quads[u].v[e] = scalar_t(0);
        }
      }
      return;
    }
    const bool channel_in = s.ci0 + stage_k < d.cin_g;
    const scalar_t* src = xg + (s.ci0 + stage_k) * d.x_sc + int64_t(s.q) * d.x_sh;
#pragma unroll
    for (int u = 0; u < kHeld; ++u) {
      const int c = stage_c + u * kColStep;
      int64_t offset = 0;
      const int r = c < staged_rows ? tile_row_source(c, offset) : kNoRow;
      held[u] = channel_in && row_inside(s, r) ? src[offset] : scalar_t(0);
    }
  };
  const auto store_input = [&](float* tile_a) {
    if (kLoad == kChannelQuads) {  // 16 bytes per quad: the tile's rows are channel-contiguous too
#pragma unroll
      for (int u = 0; u < kQuadsHeld; ++u) {
        const int e = int(threadIdx.x) + u * kThreads, c = e >> 2, k = (e & 3) * 4;
        if (c < staged_rows)
          *reinterpret_cast<float4*>(tile_a + c * kLd + k) = make_float4(
              staged<kSplit>(held_quads[u].v[0]), staged<kSplit>(held_quads[u].v[1]),
              staged<kSplit>(held_quads[u].v[2]), staged<kSplit>(held_quads[u].v[3]));
      }
      return;
    }
    if (kVec) {
#pragma unroll
      for (int u = 0; u < kQuadsHeld; ++u) {
        const int j = quad_j + u * kQuadStep;
        if (4 * j < staged_rows)
#pragma unroll
          for (int e = 0; e < 4; ++e)
            tile_a[(4 * j + e) * kLd + quad_k] = staged<kSplit>(held_quads[u].v[e]);
      }
      return;
    }
#pragma unroll
    for (int u = 0; u < kHeld; ++u)
      if (stage_c + u * kColStep < staged_rows)
        tile_a[(stage_c + u * kColStep) * kLd + stage_k] = staged<kSplit>(held[u]);
  };
  // Weights: the packed [group][i][j][channel][input channel] rows (TF32-
  // rounded there when one product is taken), 16 bytes at a time, async.
  // Thread e copies quarter e % 4 of channel e / 4's row of every landing tap:
  // the block's threads cover one tap's kTileN rows, so only the tap moves.
  static_assert(kThreads / (kChunkK / 4) == kTileN, "one tap's weight rows per pass");
  const int copy_co = int(threadIdx.x) >> 2, copy_quarter = int(threadIdx.x) & 3;
  const int64_t tap_floats = int64_t(d.cout_pad) * d.cin_pad;  // one (i, j) of the packed weight
  const float* copy_src = packed + (int64_t(g) * d.h.kernel * d.w.kernel + hw.first) * tap_floats +
                          int64_t(co0 + copy_co) * d.cin_pad + copy_quarter * 4;
  const uint32_t smem_base = uint32_t(__cvta_generic_to_shared(smem));
  const uint32_t copy_dst = smem_base + uint32_t(d.a_rows * kLd + copy_co * kLd + copy_quarter * 4) * 4;
  const auto copy_weights = [&](const Step& s, int to_buffer) {
    const float* src = copy_src + s.i * d.w.kernel * tap_floats + s.ci0;
    uint32_t dst = copy_dst + uint32_t(to_buffer * buffer_floats) * 4;
    for (int t = 0; t < w_hits; ++t, src += d.w.hit_step * tap_floats, dst += kTileN * kLd * 4)
      copy_async_16(dst, src);
    copy_async_commit();
  };

  // The tile row of this lane's ldmatrix row address for fragment f at tap 0's
  // shift: position m of the tile (bands: phase row m / count of the tile).
  // As shared-memory addresses in buffer 0 (the weights' likewise), so that a
  // tap only moves them: A up by hit_q_step rows, B by kTileN rows.
  uint32_t a_address[2], b_address[2];
#pragma unroll
  for (int f = 0; f < 2; ++f) {
    const int m = warp_m * 32 + f * 16 + (tile_row & 1) * 8 + tile_r;
    int a_row = shift + m;
    if (kBanded) {  // positions past the tile's read segment 0 (their outputs are dropped)
      const int seg = m < valid ? m / count : 0;
      a_row = seg * segment_rows + shift + (m < valid ? m - seg * count : 0);
    }
    a_address[f] = smem_base + uint32_t(a_row * kLd + (tile_row >> 1) * 4) * 4;
    const int b_row = d.a_rows + warp_n * 32 + f * 16 + (tile_row >> 1) * 8 + tile_r;
    b_address[f] = smem_base + uint32_t(b_row * kLd + (tile_row & 1) * 4) * 4;
  }

  Step step = first_step<kBanded>(d, oh);
  if (w_hits == 0) step.i = d.h.kernel;
  int buffer = 0;
  if (step.i < d.h.kernel) {
    copy_weights(step, 0);
    load_input(step);
    store_input(smem);
  }
  while (step.i < d.h.kernel) {
    copy_async_wait<0>();
    __syncthreads();  // this step's tiles are in; the other buffer's readers are done
    const Step next = next_step<kBanded>(d, step);
    if (next.i < d.h.kernel) {  // the next step's loads fly while the tensor cores work
      copy_weights(next, buffer ^ 1);
      load_input(next);
    }
    // Tap t reads input column base_t + m: row (w_hits - 1 - t) * hit_q_step + m of tile_a.
    const uint32_t buffer_bytes = uint32_t(buffer * buffer_floats) * 4;
    uint32_t a_tap = buffer_bytes + uint32_t((w_hits - 1) * d.w.hit_q_step * kLd) * 4;
    uint32_t b_tap = buffer_bytes;
    for (int t = 0; t < (warp_m * 32 < valid ? w_hits : 0);
         ++t, a_tap -= d.w.hit_q_step * kLd * 4, b_tap += kTileN * kLd * 4) {
#pragma unroll
      for (int kk = 0; kk < kChunkK; kk += 8) {
        uint32_t a[2][4], b[2][4];
#pragma unroll
        for (int f = 0; f < 2; ++f)  // tiles: rows 0-7 / 8-15 at k, then at k + 4
          load_tiles(a_address[f] + a_tap + kk * 4, a[f]);
#pragma unroll
        for (int f = 0; f < 2; ++f)  // tiles: k, k + 4 of channels 0-7, then of 8-15
          load_tiles(b_address[f] + b_tap + kk * 4, b[f]);
        if (kSplit && !kGuard) {
          uint32_t a_hi[2][4], a_x[2][4], a_lo[2][4], b_hi[2][4], b_x[2][4], b_lo[2][4];
#pragma unroll
          for (int f = 0; f < 2; ++f)
#pragma unroll
            for (int r = 0; r < 4; ++r) {
              split_tf32<false>(a[f][r], a_hi[f][r], a_x[f][r], a_lo[f][r]);
              split_tf32<false>(b[f][r], b_hi[f][r], b_x[f][r], b_lo[f][r]);
            }
#pragma unroll
          for (int fm = 0; fm < 2; ++fm)
#pragma unroll
            for (int fn = 0; fn < 4; ++fn) {
              const int bf = fn >> 1, br = (fn & 1) * 2;
              const uint32_t bh[2] = {b_hi[bf][br], b_hi[bf][br + 1]};
              const uint32_t bx[2] = {b_x[bf][br], b_x[bf][br + 1]};
              const uint32_t bl[2] = {b_lo[bf][br], b_lo[bf][br + 1]};
              mma_three_products(part[fm][fn], a_hi[fm], a_x[fm], a_lo[fm], bh, bx, bl);
            }
        } else if (kSplit) {  // guarded: each B fragment split just before its products
          uint32_t a_hi[2][4], a_x[2][4], a_lo[2][4];
#pragma unroll
          for (int f = 0; f < 2; ++f)
#pragma unroll
            for (int r = 0; r < 4; ++r) split_tf32<true>(a[f][r], a_hi[f][r], a_x[f][r], a_lo[f][r]);
#pragma unroll
          for (int fn = 0; fn < 4; ++fn) {
            const int bf = fn >> 1, br = (fn & 1) * 2;
            uint32_t b_hi[2], b_x[2], b_lo[2];
            split_tf32<true>(b[bf][br], b_hi[0], b_x[0], b_lo[0]);
            split_tf32<true>(b[bf][br + 1], b_hi[1], b_x[1], b_lo[1]);
#pragma unroll
            for (int fm = 0; fm < 2; ++fm)
              mma_three_products(part[fm][fn], a_hi[fm], a_x[fm], a_lo[fm], b_hi, b_x, b_lo);
          }
        } else {
#pragma unroll
          for (int fm = 0; fm < 2; ++fm)
#pragma unroll
            for (int fn = 0; fn < 4; ++fn) {
              const int bf = fn >> 1, br = (fn & 1) * 2;
              mma_tf32(acc[fm][fn], a[fm], b[bf][br], b[bf][br + 1]);
            }
        }
      }
    }
    if (kSplit) {  // this step's sum into the total, rounded to nearest
#pragma unroll
      for (int fm = 0; fm < 2; ++fm)
#pragma unroll
        for (int fn = 0; fn < 4; ++fn)
#pragma unroll
          for (int r = 0; r < 4; ++r) acc[fm][fn][r] += part[fm][fn][r], part[fm][fn][r] = 0.0f;
    }
    if (next.i < d.h.kernel) store_input(smem + (buffer ^ 1) * buffer_floats);
    step = next;
    buffer ^= 1;
  }

  // Fragment element r of (fm, fn): position warp_m*32 + fm*16 + lane/4 (+8
  // for r >= 2), channel warp_n*32 + fn*8 + 2*(lane%4) + r%2.
  uint32_t magnitude = 0;  // split, first launch: the largest |value| bits (inf/NaN: >= inf's)
#pragma unroll
  for (int fm = 0; fm < 2; ++fm)
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      int m = warp_m * 32 + fm * 16 + (lane >> 2) + (r >> 1) * 8;
      int64_t row_offset = n * d.o_sn + int64_t(oh) * d.o_sh;
      if (kBanded) {  // segment m / count: phase row row0 + m / count
        if (m >= valid) continue;
        const int seg = m / count;
        int sample;
        const int row = segment_row(seg, sample);
        if (row >= row_phase_rows) continue;
        row_offset = sample * d.o_sn + int64_t(oh + row * d.h.stride) * d.o_sh;
        m -= seg * count;
      } else {
        m += m0;
        if (m >= count) continue;
      }
      scalar_t* out_plane = out + row_offset + int64_t(g) * d.cout_g * d.o_sc;
      const int ow = phase + m * d.w.stride;
#pragma unroll
      for (int fn = 0; fn < 4; ++fn) {
        const int co = co0 + warp_n * 32 + fn * 8 + 2 * (lane & 3) + (r & 1);
        if (co >= d.cout_g) continue;
        const float b = bias ? static_cast<float>(bias[g * d.cout_g + co]) : 0.0f;
        out_plane[co * d.o_sc + ow * d.o_sw] = static_cast<scalar_t>(acc[fm][fn][r] + b);
        if (kSplit && !kGuard) magnitude = max(magnitude, __float_as_uint(acc[fm][fn][r]) & 0x7fffffffu);
      }
    }
  if (kSplit && !kGuard && magnitude >= 0x7f800000u) *redo = 1;  // the guarded launch redoes all
}

template <typename scalar_t, int kTileN, bool kSplit, bool kGuard, bool kBanded, int kLoad>
// 64-channel tiles: two blocks per SM (the split kernel wanted ~170 registers,
// one block; capped: kb65 8.45 -> 7.28 ms, kb69 15.1 -> 12.5, a few spills).
// The 32-channel kernels measured slower capped to four blocks (kb78 3.15 -> 3.31);
// capped to three (170 registers: the three-product ones had 172-186, two blocks).
__global__ void __launch_bounds__(kWarpsM * kTileN, kTileN == 64 ? 2 : 3)
    implicit_gemm_kernel(const ImplicitGemm d, const scalar_t* __restrict__ x,
                         const float* __restrict__ packed, int* __restrict__ redo,
                         const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
  if (!kGuard) {
    implicit_gemm_block<scalar_t, kTileN, kSplit, kGuard, kBanded, kLoad>(d, x, packed, redo, bias, out,
                                                                         int(blockIdx.x), int(blockIdx.y));
    return;
  }
  if (!*redo) return;  // nothing to redo: the first launch stands
  // The guarded launch's grid is small (its blocks almost always return at once: a full
  // grid's cost 9.8 us on fcn_up, H200 session 41); each block walks the full grid's blocks.
  for (int64_t b = blockIdx.x; b < d.grid_x * d.grid_y; b += gridDim.x) {
    implicit_gemm_block<scalar_t, kTileN, kSplit, kGuard, kBanded, kLoad>(d, x, packed, redo, bias, out,
                                                                         int(b % d.grid_x), int(b / d.grid_x));
    __syncthreads();  // the next block's staging reuses shared memory
  }
}

// Thread: packed values e (pack_weight's layout), zeros in the channels' padding. With a gate
// (the guarded rerun's flag) nothing is written unless it is set: the rerun reads it only then.
template <typename scalar_t>
__global__ void pack_weight_kernel(const PackedWeight pw, const scalar_t* __restrict__ w, float* __restrict__ packed,
                                   const int* __restrict__ gate) {
  if (gate && !*gate) return;
  const int64_t total = int64_t(pw.groups) * pw.kh * pw.kw * pw.cout_pad * pw.cin_pad;
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int ci = int(e % pw.cin_pad);
    int64_t rest = e / pw.cin_pad;
    const int co = int(rest % pw.cout_pad);
    rest /= pw.cout_pad;
    const int j = int(rest % pw.kw);
    rest /= pw.kw;
    const int i = int(rest % pw.kh), g = int(rest / pw.kh);
    float v = 0.0f;
    if (ci < pw.cin_g && co < pw.cout_g)
      v = static_cast<float>(w[(int64_t(g) * pw.cin_g + ci) * pw.s_in + co * pw.s_out + i * pw.s_h + j * pw.s_w]);
    packed[e] = pw.round_tf32 ? __uint_as_float(tf32_bits(v)) : v;
  }
}
#else
template <typename scalar_t>
__global__ void pack_weight_kernel(const PackedWeight, const scalar_t*, float*, const int*) {}
template <typename scalar_t, int kTileN, bool kSplit, bool kGuard, int kLoad>
__global__ void implicit_gemm_kernel(const ImplicitGemm, const scalar_t*, const float*, int*,
                                     const scalar_t*, scalar_t*) {}
#endif

int tile_n(const Problem& p) { return p.out_per_group <= 32 ? 32 : 64; }

ImplicitGemm describe(const Problem& p, const ConvTranspose2dOptions& o) {
  ImplicitGemm d;
  d.h = height_axis<int32_t>(p, o), d.w = width_axis<int32_t>(p, o);
  d.by_stride_h = Divider<int32_t>(int32_t(o.stride[0]));
  d.by_stride_w = Divider<int32_t>(int32_t(o.stride[1]));
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group), d.groups = int(p.groups);
  d.n_tiles = int((p.out_per_group + tile_n(p) - 1) / tile_n(p));
  d.m_tiles = (phase_length(d.w, 0) + kTileM - 1) / kTileM;  // phase 0 is the longest
  d.b_rows = max_width_hits(d.w) * tile_n(p);
  d.cin_pad = int((p.in_per_group + kChunkK - 1) / kChunkK * kChunkK);
  d.cout_pad = d.n_tiles * tile_n(p);
  d.rows = band_rows(d.w);
  d.rows_per_sample = phase_length(d.h, 0);  // row phase 0 is the longest
  // implicit_gemm_applies refuses more than int32's range of phase rows.
  const int64_t phase_rows = p.batch * int64_t(d.rows_per_sample);
  d.phase_rows = int(std::min<int64_t>(phase_rows, std::numeric_limits<int32_t>::max()));
  d.segment_quads = band_segment_rows(d.w) / 4;
  d.by_rows_per_sample = Divider<int32_t>(d.rows_per_sample);
  d.by_segment_rows = Divider<int32_t>(4 * d.segment_quads);
  if (d.rows > 1) {
    d.bands = int(std::min<int64_t>((phase_rows + d.rows - 1) / d.rows, std::numeric_limits<int32_t>::max()));
    d.a_rows = d.rows * 4 * d.segment_quads;
    d.grid_x = std::min<int64_t>(o.stride[0], p.out_h) * d.bands * o.stride[1];
    d.grid_y = p.groups * d.n_tiles;
  } else {
    d.bands = 0;
    d.a_rows = max_span(d.w);
    d.grid_x = p.out_h * o.stride[1] * d.m_tiles;
    d.grid_y = p.batch * p.groups * d.n_tiles;
  }
  return d;
}

template <typename scalar_t>
using KernelFn = void (*)(const ImplicitGemm, const scalar_t*, const float*, int*, const scalar_t*,
                          scalar_t*);

template <typename scalar_t, int kTileN, bool kSplit, bool kGuard, bool kBanded>
KernelFn<scalar_t> pick_kernel(int load) {
  return load == kColumnQuads ? implicit_gemm_kernel<scalar_t, kTileN, kSplit, kGuard, kBanded, kColumnQuads>
         : load == kChannelQuads
             ? implicit_gemm_kernel<scalar_t, kTileN, kSplit, kGuard, kBanded, kChannelQuads>
             : implicit_gemm_kernel<scalar_t, kTileN, kSplit, kGuard, kBanded, kScalarLoad>;
}

template <typename scalar_t, int kTileN, bool kSplit, bool kGuard>
KernelFn<scalar_t> pick_kernel(bool banded, int load) {
  return banded ? pick_kernel<scalar_t, kTileN, kSplit, kGuard, true>(load)
                : pick_kernel<scalar_t, kTileN, kSplit, kGuard, false>(load);
}

// float32 splits unless TF32 is allowed (guard: the rerun kernel); float16/bfloat16 never split.
template <typename scalar_t>
KernelFn<scalar_t> pick_kernel(int tile_n, bool split, bool guard, bool banded, int load) {
  if constexpr (std::is_same<scalar_t, float>::value) {
    if (split && guard)
      return tile_n == 32 ? pick_kernel<scalar_t, 32, true, true>(banded, load)
                          : pick_kernel<scalar_t, 64, true, true>(banded, load);
    if (split)
      return tile_n == 32 ? pick_kernel<scalar_t, 32, true, false>(banded, load)
                          : pick_kernel<scalar_t, 64, true, false>(banded, load);
  }
  return tile_n == 32 ? pick_kernel<scalar_t, 32, false, false>(banded, load)
                      : pick_kernel<scalar_t, 64, false, false>(banded, load);
}

// Auto rule: the tensor-core work the blocks do (whole 128-position tiles,
// whole channel tiles and chunks, the taps that land) at a rate measured on
// the H100, plus a cost per output value (setup, pipeline fill, stores),
// fitted on the suite (NOTES.md, session 6): kb71/kb78 give 90e12
// multiply-adds per second (TF32, float16, bfloat16), 6.1 ps per output;
// three products (float32) 35-43e12 on kb57-kb78. Bands run fewer taps per
// step (stride-2 kernels: two width taps), which the staging outweighs: 39-52e12
// and 24-28e12 measured on dcgan and fcn_up (session 10). Taken where predicted
// >= 20% faster than the gather and GEMM + col2im.
constexpr double kImplicitMacsPerSecond = 90e12, kImplicitSplitMacsPerSecond = 35e12;
constexpr double kBandMacsPerSecond = 45e12, kBandSplitMacsPerSecond = 26e12;
constexpr double kImplicitSecondsPerOutput = 6.1e-12;
constexpr double kImplicitMargin = 0.8;

// Float32 without TF32: split products, and a guarded rerun where an output is not finite.
bool is_split(const ConvTranspose2dOptions& o, at::ScalarType dtype) { return dtype == at::kFloat && !o.allow_tf32; }

double implicit_gemm_seconds(const Problem& p, const ConvTranspose2dOptions& o,
                             const ImplicitGemm& d, at::ScalarType dtype) {
  // Row work: landing row taps over all output rows of every sample, or for
  // bands every landing tap of each row phase per band.
  double row_taps = 0;
  if (d.rows > 1) {
    for (int32_t ph = 0; ph < std::min(d.h.stride, d.h.out_size); ++ph)
      row_taps += double(d.bands) * double(phase_taps(d.h, ph, d.by_stride_h).hits);
  } else {
    for (int32_t oh = 0; oh < d.h.out_size; ++oh)
      for (RowTap<int32_t> t = first_row_tap(d.h, oh, d.by_stride_h); t.i < d.h.kernel;
           t = next_row_tap(d.h, t))
        row_taps += double(p.batch);
  }
  double tile_taps = 0;  // width taps x position tiles, over the phases
  for (int32_t phase = 0; phase < std::min(d.w.stride, d.w.out_size); ++phase)
    tile_taps += double(phase_taps(d.w, phase, d.by_stride_w).hits) *
                 double(d.rows > 1 ? 1 : (phase_length(d.w, phase) + kTileM - 1) / kTileM);
  const double macs = double(p.groups) * double(d.cout_pad) * kTileM * double(d.cin_pad) *
                      row_taps * tile_taps;
  const bool split = is_split(o, dtype);
  const double outputs = double(p.batch) * double(p.out_channels()) * double(p.out_h * p.out_w);
  const double rate = d.rows > 1 ? (split ? kBandSplitMacsPerSecond : kBandMacsPerSecond)
                                  : (split ? kImplicitSplitMacsPerSecond : kImplicitMacsPerSecond);
  return macs / rate + outputs * kImplicitSecondsPerOutput;
}

int64_t packed_bytes(const Problem& p, const ImplicitGemm& d) {
  return p.groups * p.kernel_taps() * d.cout_pad * d.cin_pad * int64_t(sizeof(float));
}

// The guarded rerun's packed weight (split only), held beside a wgmma call's packs.
int64_t rerun_weight_bytes(const Problem& p, const ConvTranspose2dOptions& o, const ImplicitGemm& d,
                           at::ScalarType dtype) {
  return is_split(o, dtype) ? packed_bytes(p, d) : 0;
}

// The weight as the kernel stages it: float32 (TF32-rounded when one TF32
// product is taken), [group][i][j][output channel][input channel], channels
// zero-padded to whole tiles and chunks, so a step copies 16-byte rows. One kernel (it was
// zeros, a permuted copy and a rounding pass: three). gate: pack_weight_kernel's.
at::Tensor pack_weight(const Problem& p, const ImplicitGemm& d, const at::Tensor& weight, bool round_tf32,
                       const int* gate = nullptr) {
  at::Tensor packed = at::empty({p.groups, p.kernel_h, p.kernel_w, d.cout_pad, d.cin_pad},
                                weight.options().dtype(at::kFloat));
  const PackedWeight pw{int(p.groups), int(p.kernel_h), int(p.kernel_w), d.cin_g, d.cout_g, d.cin_pad, d.cout_pad,
                        weight.stride(0), weight.stride(1), weight.stride(2), weight.stride(3), round_tf32};
  // Gated: a grid of two blocks an SM, so that a launch with nothing to do is short.
  const int64_t blocks = gate ? 2 * at::cuda::getCurrentDeviceProperties()->multiProcessorCount
                              : std::min<int64_t>((packed.numel() + 255) / 256, 4096);
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, weight.scalar_type(), "pack_weight", [&] {
    pack_weight_kernel<scalar_t><<<unsigned(blocks), 256, 0, stream>>>(pw, weight.data_ptr<scalar_t>(),
                                                                       packed.data_ptr<float>(), gate);
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return packed;
}

}  // namespace

bool implicit_gemm_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType dtype) {
  if (o.implicit_gemm == 0 || dtype == at::kDouble) return false;
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  const auto* props = at::cuda::getCurrentDeviceProperties();
  if (props->major < 8) return false;
  // 32-bit in-plane indices, planes on the grid's y axis, rows x tiles on x.
  const ImplicitGemm d = describe(p, o);
  if (p.in_pixels() > int_max || p.out_h * p.out_w > int_max || d.grid_y > 65535 ||
      p.batch * int64_t(d.rows_per_sample) > int_max ||
      d.grid_x > int_max || packed_bytes(p, d) > o.workspace_bytes || d.a_rows > kMaxSpan ||
      smem_bytes(d) > size_t(std::min<int64_t>(kMaxSmemBytes, props->sharedMemPerBlockOptin)))
    return false;
  if (o.implicit_gemm > 0) return true;
  double other_s = columns_path_seconds(p, o, dtype);
  if (o.direct_gather != 0) other_s = std::min(other_s, direct_gather_seconds(p, o, dtype));
  if (implicit_gemm_seconds(p, o, d, dtype) < kImplicitMargin * other_s) return true;
  // Float32 where the wgmma phases apply (they, not the kernel priced above, run there):
  // also where their own model prices them under the other paths. Both rules' picks,
  // because the columns model errs by up to 25% on these layers: H200, session 38, the
  // phases' model alone moved N16 128->64 4x4 128x128 (phases 1.86 ms) to columns (2.24);
  // together they add fcn_up (2.22 -> 1.91 ms) and 128->128 on 64x64 (0.94 -> 0.85).
  // Session 41, TF32: fcn_up 1.16 -> 0.85 ms, 256->128 on 32x32 0.255 -> 0.216. Not where
  // the taps are disjoint (one tap a phase): the disjoint-taps path, tried after this rule,
  // is a GEMM straight into the output that the columns model does not price (unet_up TF32
  // ran it in 0.46-0.57 ms; the phases' model prices unet_up at 0.97, the columns' at 1.05).
  const bool disjoint = o.disjoint_taps != 0 && taps_disjoint(p.kernel_h, o.stride[0], o.dilation[0]) &&
                        taps_disjoint(p.kernel_w, o.stride[1], o.dilation[1]);
  return dtype == at::kFloat && !disjoint &&
         wgmma_phases_seconds(p, wgmma_phases(p, o, dtype, rerun_weight_bytes(p, o, d, dtype))) < other_s;
}

void implicit_gemm_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out) {
  ImplicitGemm d = describe(p, o);
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2),
  d.x_sw = input.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  if (d.grid_x == 0 || d.grid_y == 0) return;
  const dim3 grid(static_cast<unsigned>(d.grid_x), static_cast<unsigned>(d.grid_y));
  const int n_tile = tile_n(p);
  const size_t smem = smem_bytes(d);
  const bool split = is_split(o, input.scalar_type());
  // sm_90a, float32: the first launch on wgmma (implicit_wgmma.h), at stride 1 or one
  // stride-1 call per output phase (wgmma_phases.cpp); a guarded rerun, when flagged, of
  // the whole call on the kernel below. Split's rerun weight is packed after the wgmma call
  // (below), yet its bytes still come off that call's cap: freeing them (fcn_up: 3 samples a
  // chunk, a 72 MiB cap's plan) measured no faster (H200, session 42).
  const int64_t rerun_bytes = rerun_weight_bytes(p, o, d, input.scalar_type());
  const WgmmaPhases phases = wgmma_phases(p, o, input.scalar_type(), rerun_bytes);
  const bool wgmma = phases.apply || (d.rows == 1 && implicit_wgmma_applies(p, o, input.scalar_type(), rerun_bytes));
  // The mma.sync kernel's packed weight: now where that kernel runs first, else (split's
  // guarded rerun behind a wgmma launch) once the wgmma work is queued, so that its host
  // time runs beside the products. H200, session 41, fcn_up strict: the GPU sat idle ~0.2 ms
  // at the op's front while the host prepared this weight, the flags and the wgmma calls.
  const bool round_tf32 = !split && input.scalar_type() == at::kFloat;
  at::Tensor packed = wgmma ? at::Tensor() : pack_weight(p, d, weight, round_tf32);
  // The redo flag, cleared by a memset: at::zeros took ~24 us of host time (profiled) at the
  // op's front, before the first products (H200, session 42).
  const at::Tensor redo = split ? at::empty({1}, input.options().dtype(at::kInt)) : at::Tensor();
  if (split)
    C10_CUDA_CHECK(cudaMemsetAsync(redo.data_ptr<int>(), 0, sizeof(int), at::cuda::getCurrentCUDAStream().stream()));
  // Four-value loads: rows of unit stride whose every quad is aligned.
  const int64_t quad_bytes = 4 * int64_t(input.element_size());
  const bool aligned = reinterpret_cast<uintptr_t>(input.data_ptr()) % quad_bytes == 0 &&
                       d.x_sn % 4 == 0 && d.x_sh % 4 == 0;
  const int load = !aligned ? kScalarLoad
                   : d.x_sw == 1 && d.w.in_size % 4 == 0 && d.x_sc % 4 == 0 ? kColumnQuads
                   : d.x_sc == 1 && d.x_sw % 4 == 0 && d.cin_g % 4 == 0   ? kChannelQuads
                                                                           : kScalarLoad;
  const auto stream = at::cuda::getCurrentCUDAStream();
  const int64_t sm_count = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const auto launch = [&](auto zero) {
    using scalar_t = decltype(zero);
    // Split: a second, guarded launch that returns at once unless the first
    // launch's outputs held an infinity or NaN (a device flag; no sync).
    for (const bool guard : {false, true}) {
      if (guard && !split) break;
      if (!guard && wgmma) {
        int* flag = split ? redo.data_ptr<int>() : nullptr;
        if (phases.apply)
          wgmma_phases_cuda(p, o, phases, input, weight, bias, out, flag);
        else
          implicit_wgmma_cuda(p, o, input, weight, bias, out, flag, rerun_bytes);
        continue;
      }
      if (!packed.defined()) packed = pack_weight(p, d, weight, round_tf32, redo.data_ptr<int>());
      const KernelFn<scalar_t> kernel = pick_kernel<scalar_t>(n_tile, split, guard, d.rows > 1, load);
      if (smem > 48 * 1024)
        C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                            int(smem)));
      // The guarded launch: a wave of blocks (two an SM), each walking the grid's blocks.
      const int64_t guard_blocks = std::min<int64_t>(d.grid_x * d.grid_y, 2 * sm_count);
      kernel<<<guard ? dim3(unsigned(guard_blocks)) : grid, kWarpsM * n_tile, smem, stream>>>(
          d, input.data_ptr<scalar_t>(), packed.data_ptr<float>(),
          split ? redo.data_ptr<int>() : nullptr,
          bias.defined() ? bias.data_ptr<scalar_t>() : nullptr, out.data_ptr<scalar_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    }
  };
  switch (input.scalar_type()) {  // implicit_gemm_applies admits these three
    case at::kFloat: return launch(float(0));
    case at::kHalf: return launch(c10::Half(0));
    case at::kBFloat16: return launch(c10::BFloat16(0));
    default: TORCH_INTERNAL_ASSERT(false, "implicit_gemm: unsupported dtype ", input.scalar_type());
  }
}

}  // namespace gemm_convt
