#include "disjoint_taps.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <cuda_bf16.h>
#include <cuda_fp16.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"
#include "disjoint_wgmma_host.h"
#include "mma_tf32.cuh"
#include "ptx.cuh"

namespace gemm_convt {
namespace {

// A block computes the products of kTileCells input pixels (GEMM M) with the
// weight rows of whole output channels, all their taps (GEMM N, up to
// kTileCols), then writes those channels' output cells: each cell is a
// stride_h x stride_w block of output (geometry.h, cell_origin / cell_tap),
// gaps included (bias only), so every output element has one writer.
constexpr int kTileCells = 64;
constexpr int kTileCols = 128;
constexpr int kTileK = 16;     // input channels per step
constexpr int kThreads = 256;  // 8 warps: 2 along cells x 4 along products, 32 x 32 each
constexpr int kMaxStride = 64;  // the cells' tap tables
// Row strides in elements. A and B rows lie 8 mod 32 words apart in float32
// (conflict-free fragment loads) and 16 mod 128 bytes in 16-bit types
// (conflict-free ldmatrix rows); the products' rows 4 mod 32 words
// (conflict-free fragment stores).
constexpr int kLdA = kTileCells + 8, kLdB = kTileCols + 8, kLdC = kTileCells + 4;
// Channels-fast epilogue: the products as [cell][column], rows 8 mod 32 words
// apart (2-way conflicts on the fragment stores, none on the epilogue's reads).
constexpr int kLdT = kTileCols + 8;
// How a block stages its tiles (the kernel's kLoad): element loads, any layout;
// 16-byte copies of NCHW rows (A as [k][cell]); 16-byte copies along the
// channels of channels_last pixels (A as [cell][k], rows kLdK apart: 20 words
// in float32, 48 bytes in 16-bit types, conflict-free fragment loads and
// ldmatrix rows), B then tap-major from a weight copy.
enum Load { kElementLoads = 0, kRowVectors = 1, kChannelVectors = 2 };
template <typename smem_t>
constexpr int ld_k() { return kTileK + (sizeof(smem_t) == 4 ? 4 : 8); }
// Elements of a step's A tile.
template <typename smem_t, int kLoad>
constexpr int a_tile() {
  return kLoad == kChannelVectors ? kTileCells * ld_k<smem_t>() : kTileK * kLdA;
}

struct DisjointTaps {
  int64_t x_sn, x_sc, x_sh, x_sw;  // input strides (elements)
  int64_t o_sn, o_sc, o_sh, o_sw;  // output strides
  int in_w, out_h, out_w, pixels;
  int cin_g, cout_g, groups, kh, kw, taps;
  int s_h, s_w, pad_h, pad_w, dil_h, dil_w;
  int channels_per_tile, col_tiles, cell_tiles;
  int row_groups;     // the epilogue's row groups: positions x groups, a multiple of the block
  bool channel_fast;  // input channels adjacent in memory (channels_last): load along them
  // Channel vectors, or channels_last output with element loads: product
  // columns tap-major, the products kept [cell][column], the epilogue's lanes
  // on consecutive channels.
  bool out_channel_fast;
  int channel_slots;  // a power of two >= channels_per_tile: lanes per output pixel
  Divider<int32_t> by_s_w, by_s_h, by_positions;
};

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
// Staged operand per dtype; float32 runs as TF32 (only where allowed).
template <typename scalar_t>
struct Operand;
template <>
struct Operand<float> {
  using smem_t = float;
  __device__ static smem_t load(const float* p) { return *p; }
  __device__ static smem_t zero() { return 0.0f; }
};
template <>
struct Operand<c10::Half> {
  using smem_t = __half;
  __device__ static smem_t load(const c10::Half* p) { return *reinterpret_cast<const __half*>(p); }
  __device__ static smem_t zero() { return __float2half(0.0f); }
};
template <>
struct Operand<c10::BFloat16> {
  using smem_t = __nv_bfloat16;
  __device__ static smem_t load(const c10::BFloat16* p) {
    return *reinterpret_cast<const __nv_bfloat16*>(p);
  }
  __device__ static smem_t zero() { return __float2bfloat16(0.0f); }
};

// A warp's share of one staged step: 32 cells (wm) x 32 products (wn) as
// 2 x 4 mma.sync m16n8 fragments. Shared memory holds A as [k][cell] (as
// staged from NCHW rows; [cell][k] from channels_last pixels: kKMajorA) and B
// as [k][column] (weight rows), so each [k][...] operand is read
// K-transposed: TF32 by single-word loads that hit 32 distinct banks (row
// strides of 8 mod 32 words), 16-bit types by ldmatrix.trans. TF32 operands
// sit in shared memory already rounded to nearest (tf32_bits, once per staged
// value: round_staged_tf32, Stage), not truncated: a NaN whose payload sits in
// the low bits would read as inf, and truncation doubled the error against
// cuDNN's (3.3e-4 against 1.4e-4 on U-Net's layer).
//
// Where a lane's loads start in a step's A and B tiles (found once per block;
// a step adds only constants). TF32: cell/column g, k = t (and t + 4). 16-bit:
// ldmatrix tile l / 8 of A is (k half, cell half) = (l / 16, l / 8 % 2), i.e.
// fragments a0..a3 in order; of B, (k half, column half) = (l / 8 % 2, l / 16):
// b0, b1 of fragment j, then of fragment j + 1.
// A as [cell][k] (kKMajorA): TF32 cell g, k = t; 16-bit ldmatrix (no .trans)
// rows: cell l % 16, k half l / 16.
template <typename smem_t, bool kKMajorA>
__device__ __forceinline__ int2 lane_offsets(int wm, int wn) {
  const int lane = int(threadIdx.x) % 32;
  constexpr int kLdK = ld_k<smem_t>();
  if (std::is_same<smem_t, float>::value) {
    const int g = lane / 4, t = lane % 4;
    return make_int2(kKMajorA ? (wm * 32 + g) * kLdK + t : t * kLdA + wm * 32 + g,
                     t * kLdB + wn * 32 + g);
  }
  const int r = lane % 8, tile = lane / 8;
  return make_int2(kKMajorA ? (wm * 32 + lane % 16) * kLdK + (lane / 16) * 8
                            : (r + 8 * (tile / 2)) * kLdA + wm * 32 + 8 * (tile % 2),
                   (r + 8 * (tile % 2)) * kLdB + wn * 32 + 8 * (tile / 2));
}

// sa, sb: the step's tiles, already at the lane's offsets. kSplit (float32
// where TF32 is not allowed): each operand split into a TF32 high part and the
// remainder, three products per fragment pair (mma_tf32.cuh), the split's
// guard always on (an inf or NaN keeps zero low parts, a value whose rounding
// would overflow is truncated), so non-finite values reach the outputs as in
// torch's without a rerun.
template <bool kSplit, bool kKMajorA>
__device__ __forceinline__ void step_products(const float* sa, const float* sb,
                                              float (&acc)[2][4][4]) {
  // A's strides: between cells, between k.
  constexpr int kCell = kKMajorA ? ld_k<float>() : 1, kK = kKMajorA ? 1 : kLdA;
#pragma unroll
  for (int ks = 0; ks < kTileK; ks += 8) {
    // The operands' bits: whole for the split, TF32 (rounded when staged) for one product.
    uint32_t a[2][4], b[4][2];
#pragma unroll
    for (int i = 0; i < 2; ++i) {
      const float* lo = sa + ks * kK + i * 16 * kCell;
      a[i][0] = __float_as_uint(lo[0]);
      a[i][1] = __float_as_uint(lo[8 * kCell]);
      a[i][2] = __float_as_uint(lo[4 * kK]);
      a[i][3] = __float_as_uint(lo[4 * kK + 8 * kCell]);
    }
#pragma unroll
    for (int j = 0; j < 4; ++j) {
      const float* col = sb + ks * kLdB + j * 8;
      b[j][0] = __float_as_uint(col[0]);
      b[j][1] = __float_as_uint(col[4 * kLdB]);
    }
    if (kSplit) {
      uint32_t a_hi[2][4], a_x[2][4], a_lo[2][4], b_hi[4][2], b_x[4][2], b_lo[4][2];
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int e = 0; e < 4; ++e) split_tf32<true>(a[i][e], a_hi[i][e], a_x[i][e], a_lo[i][e]);
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int e = 0; e < 2; ++e) split_tf32<true>(b[j][e], b_hi[j][e], b_x[j][e], b_lo[j][e]);
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j)
          mma_three_products(acc[i][j], a_hi[i], a_x[i], a_lo[i], b_hi[j], b_x[j], b_lo[j]);
    } else {
#pragma unroll
      for (int i = 0; i < 2; ++i)
#pragma unroll
        for (int j = 0; j < 4; ++j) mma_tf32(acc[i][j], a[i], b[j][0], b[j][1]);
    }
  }
}

// Four 8x8 16-bit tiles, transposed (kTransposed: A as [k][cell], B) or as
// stored (A as [cell][k]): lane l gives the row address of tile l / 8.
template <bool kTransposed>
__device__ __forceinline__ void load_tiles(const void* row, uint32_t (&r)[4]) {
  const uint32_t address = static_cast<uint32_t>(__cvta_generic_to_shared(row));
  if (kTransposed)
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.trans.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address));
  else
    asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
                 : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
                 : "r"(address));
}

template <typename smem_t>
__device__ __forceinline__ void mma_k16(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                        uint32_t b1) {
  if (std::is_same<smem_t, __half>::value)
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.f16.f16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
  else
    asm volatile(
        "mma.sync.aligned.m16n8k16.row.col.f32.bf16.bf16.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
        "{%8,%9}, {%0,%1,%2,%3};\n"
        : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
        : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// 16-bit types: one k16 step (sa, sb at the lane's offsets).
template <bool kSplit, bool kKMajorA, typename smem_t>
__device__ __forceinline__ void step_products(const smem_t* sa, const smem_t* sb,
                                              float (&acc)[2][4][4]) {
  static_assert(!kSplit, "16-bit operands are exact in one product");
  static_assert(kTileK == 16, "one m16n8k16 step per staged step");
  uint32_t a[2][4], b[4][2];
#pragma unroll
  for (int i = 0; i < 2; ++i)
    load_tiles<!kKMajorA>(sa + i * 16 * (kKMajorA ? ld_k<smem_t>() : 1), a[i]);
#pragma unroll
  for (int jj = 0; jj < 2; ++jj) {
    uint32_t q[4];
    load_tiles<true>(sb + jj * 16, q);
    b[2 * jj][0] = q[0], b[2 * jj][1] = q[1], b[2 * jj + 1][0] = q[2], b[2 * jj + 1][1] = q[3];
  }
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j) mma_k16<smem_t>(acc[i][j], a[i], b[j][0], b[j][1]);
}
#endif

// A value as staged (element loads): float32 rounded to TF32 for one product, else as is.
template <bool kSplit, typename smem_t>
struct Stage {
  __device__ static smem_t value(smem_t v) { return v; }
};
template <bool kSplit>
struct Stage<kSplit, float> {
  __device__ static float value(float v) { return staged<kSplit>(v); }
};

// One 16-byte chunk of a staged float32 tile rounded to TF32 in place, by the
// thread that copied it (after its cp.async.wait, before the step's barrier):
// each value once, where the fragment loads would round it 2-4 times.
__device__ __forceinline__ void round_staged_tf32(uint32_t smem_address) {
  float v[4];
  asm volatile("ld.shared.v4.f32 {%0,%1,%2,%3}, [%4];\n"
               : "=f"(v[0]), "=f"(v[1]), "=f"(v[2]), "=f"(v[3])
               : "r"(smem_address)
               : "memory");
#pragma unroll
  for (int e = 0; e < 4; ++e) v[e] = staged<false>(v[e]);
  asm volatile("st.shared.v4.f32 [%0], {%1,%2,%3,%4};\n" ::"r"(smem_address), "f"(v[0]), "f"(v[1]),
               "f"(v[2]), "f"(v[3])
               : "memory");
}

template <typename scalar_t, int kLoad, bool kSplit>
__global__ void __launch_bounds__(kThreads, (kLoad != kElementLoads && !kSplit) ? 4 : 2)
    disjoint_taps_kernel(const DisjointTaps d, const scalar_t* __restrict__ x,
                         const scalar_t* __restrict__ w, const scalar_t* __restrict__ bias,
                         scalar_t* __restrict__ out) {
#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
  using M = Operand<scalar_t>;
  using smem_t = typename M::smem_t;
  constexpr bool kAsync = kLoad != kElementLoads, kKMajorA = kLoad == kChannelVectors;
  constexpr int kATile = a_tile<smem_t, kLoad>();
  constexpr int kStage = kATile + kTileK * kLdB;  // elements of one step's A and B tiles
  constexpr int ab_bytes = 2 * kStage * int(sizeof(smem_t));  // two steps
  constexpr int c_elems =  // the products as [column][cell] or [cell][column]
      kTileCols * kLdC > kTileCells * kLdT ? kTileCols * kLdC : kTileCells * kLdT;
  constexpr int c_bytes = c_elems * int(sizeof(float));
  // The operand tiles, then (after the last step) the products, cells fastest.
  __shared__ __align__(128) unsigned char tiles[ab_bytes > c_bytes ? ab_bytes : c_bytes];
  __shared__ int64_t cell_x[kTileCells];  // input offset of each cell's pixel, -1 past the end
  __shared__ int cell_oh[kTileCells], cell_ow[kTileCells];
  __shared__ signed char tap_h[kMaxStride], tap_w[kMaxStride];
  __shared__ float tile_bias[kTileCols];
  float* sc = reinterpret_cast<float*>(tiles);

  // Column tiles vary fastest: the blocks reading one input tile run together.
  int block = int(blockIdx.x);
  const int ct = block % d.col_tiles;
  block /= d.col_tiles;
  const int pt = block % d.cell_tiles, ng = block / d.cell_tiles;
  const int n = ng / d.groups, g = ng - n * d.groups;
  const int c0 = ct * d.channels_per_tile;
  const int channels = min(d.channels_per_tile, d.cout_g - c0), cols = channels * d.taps;
  const int t = int(threadIdx.x);

  if (t < kTileCells) {
    const int p = pt * kTileCells + t;
    const int i = p / d.in_w, j = p - i * d.in_w;
    const bool inside = p < d.pixels;
    cell_x[t] = inside ? i * d.x_sh + j * d.x_sw : int64_t(-1);
    cell_oh[t] = inside ? int(cell_origin(i, d.s_h, d.pad_h)) : d.out_h;  // past the end: no row
    cell_ow[t] = inside ? int(cell_origin(j, d.s_w, d.pad_w)) : 0;
  }
  if (t < channels) tile_bias[t] = bias ? static_cast<float>(bias[g * d.cout_g + c0 + t]) : 0.0f;
  if (t < d.s_h) tap_h[t] = static_cast<signed char>(cell_tap(t, d.kh, d.dil_h));
  if (t < d.s_w) tap_w[t] = static_cast<signed char>(cell_tap(t, d.kw, d.dil_w));
  __syncthreads();

  const scalar_t* xg = x + n * d.x_sn + int64_t(g) * d.cin_g * d.x_sc;
  const int w_ld = d.cout_g * d.taps;  // weight[ci] holds cout_g x taps values
  const scalar_t* wg = w + int64_t(g) * d.cin_g * w_ld + int64_t(c0) * d.taps;

  const int warp = t / 32, wm = warp % 2, wn = warp / 2;
  const bool warp_busy = wn * 32 < cols;  // narrow tiles: idle warps skip the products
  float acc[2][4][4] = {};
  const int2 lane = lane_offsets<smem_t, kKMajorA>(wm, wn);
  const auto products = [&](const smem_t* sa, const smem_t* sb) {
    if (warp_busy) step_products<kSplit, kKMajorA>(sa + lane.x, sb + lane.y, acc);
  };
  smem_t* stage0 = reinterpret_cast<smem_t*>(tiles);

  if (kAsync) {
    // 16-byte copies straight into shared memory (the host checked sizes and
    // alignment), two steps in flight. A vector holds kV cells of one input
    // channel (NCHW rows) or kV channels of one cell (channels_last), or kV
    // weight columns; past the input channels or the weight row the copy
    // reads nothing and writes zeros.
    constexpr int kV = 16 / int(sizeof(scalar_t));
    constexpr int kAVec = kTileK * kTileCells / kV, kBVec = kTileK * kTileCols / kV;
    constexpr int kBPer = (kBVec + kThreads - 1) / kThreads;
    // Each copy's shared-memory address (in stage 0) and source are found
    // once; a step only moves the sources on by kTileK channels.
    const uint32_t smem0 = static_cast<uint32_t>(__cvta_generic_to_shared(stage0));
    const bool a_mine = t < kAVec;
    // This thread's A vector: channel a_kk (first of kV along the channels
    // when kKMajorA) of cell a_m (first of kV cells otherwise).
    const int a_kk = kKMajorA ? (t % (kTileK / kV)) * kV : t / (kTileCells / kV);
    const int a_m = kKMajorA ? t / (kTileK / kV) : (t % (kTileCells / kV)) * kV;
    const bool a_inside = a_mine && cell_x[a_m] >= 0;
    const int a_offset = kKMajorA ? a_m * ld_k<smem_t>() + a_kk : a_kk * kLdA + a_m;
    const uint32_t a_dst = smem0 + uint32_t(a_offset) * sizeof(smem_t);
    const scalar_t* a_src = xg + (a_inside ? cell_x[a_m] + a_kk * d.x_sc : 0);
    const int64_t a_step = kTileK * d.x_sc, b_step = int64_t(kTileK) * w_ld;
    // B: weight rows as they are; kKMajorA: tap-major columns from the
    // [Cin][taps][Cout/groups] copy (column j: tap j / channels of channel
    // j % channels; kV columns share a tap, the host checked).
    const scalar_t* w_tile = kKMajorA ? wg - int64_t(c0) * d.taps + c0 : wg;
    int b_kk[kBPer];
    uint32_t b_dst[kBPer];
    bool b_inside[kBPer];
    const scalar_t* b_src[kBPer];
#pragma unroll
    for (int u = 0; u < kBPer; ++u) {
      const int v = t + u * kThreads;
      const int col = (v % (kTileCols / kV)) * kV;
      b_kk[u] = v < kBVec ? v / (kTileCols / kV) : d.cin_g;  // cin_g: no copy
      b_dst[u] = smem0 + uint32_t(kATile + b_kk[u] * kLdB + col) * sizeof(smem_t);
      b_inside[u] = v < kBVec && (kKMajorA ? col < cols : col < w_ld - c0 * d.taps);
      const int src = kKMajorA && b_inside[u] ? (col / channels) * d.cout_g + col % channels : col;
      b_src[u] = b_inside[u] ? w_tile + int64_t(b_kk[u]) * w_ld + src : w_tile;
    }
    const auto issue = [&](int k0, uint32_t stage_offset) {
      if (a_mine) copy_async_16(a_dst + stage_offset, a_src, a_inside && k0 + a_kk < d.cin_g);
      a_src += a_step;
#pragma unroll
      for (int u = 0; u < kBPer; ++u) {
        if (t + u * kThreads < kBVec)
          copy_async_16(b_dst[u] + stage_offset, b_src[u], b_inside[u] && k0 + b_kk[u] < d.cin_g);
        b_src[u] += b_step;
      }
      copy_async_commit();
    };
    constexpr uint32_t kStageBytes = kStage * sizeof(smem_t);
    issue(0, 0);
    int stage = 0;
    // float32 for one product: this thread's chunks of the stage rounded to TF32.
    constexpr bool kRound = std::is_same<smem_t, float>::value && !kSplit;
    for (int k0 = 0; k0 < d.cin_g; k0 += kTileK) {
      if (k0 + kTileK < d.cin_g) {
        issue(k0 + kTileK, (stage ^ 1) * kStageBytes);
        copy_async_wait<1>();
      } else {
        copy_async_wait<0>();
      }
      if (kRound) {
        const uint32_t stage_offset = stage * kStageBytes;
        if (a_mine) round_staged_tf32(a_dst + stage_offset);
#pragma unroll
        for (int u = 0; u < kBPer; ++u)
          if (t + u * kThreads < kBVec) round_staged_tf32(b_dst[u] + stage_offset);
      }
      __syncthreads();
      products(stage0 + stage * kStage, stage0 + stage * kStage + kATile);
      __syncthreads();
      stage ^= 1;
    }
  } else {
    // Any layout: each thread loads the same tile positions at every step,
    // their offsets found once, the next step's values fetched into
    // registers during the products. A: cells fastest for NCHW-like inputs,
    // channels fastest for channels_last.
    constexpr int kA = kTileK * kTileCells / kThreads, kB = kTileK * kTileCols / kThreads;
    int a_kk[kA], a_smem[kA];
    int64_t a_off[kA];  // -1: past the last cell
#pragma unroll
    for (int u = 0; u < kA; ++u) {
      const int e = t + u * kThreads;
      const int kk = d.channel_fast ? e % kTileK : e / kTileCells;
      const int m = d.channel_fast ? e / kTileK : e % kTileCells;
      a_kk[u] = kk;
      a_smem[u] = kk * kLdA + m;
      a_off[u] = cell_x[m] < 0 ? int64_t(-1) : cell_x[m] + kk * d.x_sc;
    }
    constexpr int b_kk_step = kThreads / kTileCols;  // kk = b_kk0 + u * b_kk_step
    const int b_col = t % kTileCols, b_kk0 = t / kTileCols;
    const bool b_inside = b_col < cols;
    // Tap-major product columns (channels_last output): column j is tap
    // j / channels of channel j % channels.
    const int b_src =
        d.out_channel_fast && b_inside ? (b_col % channels) * d.taps + b_col / channels : b_col;
    const scalar_t* b_ptr = wg + int64_t(b_kk0) * w_ld + b_src;
    smem_t a_next[kA], b_next[kB];
    const auto fetch = [&](int k0) {
#pragma unroll
      for (int u = 0; u < kA; ++u)
        a_next[u] = k0 + a_kk[u] < d.cin_g && a_off[u] >= 0
                        ? M::load(xg + a_off[u] + int64_t(k0) * d.x_sc)
                        : M::zero();
#pragma unroll
      for (int u = 0; u < kB; ++u)
        b_next[u] = b_inside && k0 + b_kk0 + u * b_kk_step < d.cin_g
                        ? M::load(b_ptr + int64_t(k0 + u * b_kk_step) * w_ld)
                        : M::zero();
    };
    smem_t* sa = stage0;
    smem_t* sb = stage0 + kATile;
    fetch(0);
    for (int k0 = 0; k0 < d.cin_g; k0 += kTileK) {
      // float32 rounded to TF32 once here, as the async path's round_staged_tf32 does.
#pragma unroll
      for (int u = 0; u < kA; ++u) sa[a_smem[u]] = Stage<kSplit, smem_t>::value(a_next[u]);
#pragma unroll
      for (int u = 0; u < kB; ++u)
        sb[(b_kk0 + u * b_kk_step) * kLdB + b_col] = Stage<kSplit, smem_t>::value(b_next[u]);
      __syncthreads();
      if (k0 + kTileK < d.cin_g) fetch(k0 + kTileK);  // in flight during the products
      products(sa, sb);
      __syncthreads();
    }
  }
  // The products to shared memory as [column][cell] (the tiles are free: the
  // last step ended with a barrier). Fragment element e of (i, j) is cell
  // row g (+8 for e >= 2), column 2t (+1 for odd e).
  // Channels-fast: as [cell][column] instead.
  {
    const int lane = t % 32, fg = lane / 4, ft = lane % 4;
    const int col_step = d.out_channel_fast ? 1 : kLdC, cell_step = d.out_channel_fast ? kLdT : 1;
#pragma unroll
    for (int i = 0; i < 2; ++i)
#pragma unroll
      for (int j = 0; j < 4; ++j)
#pragma unroll
        for (int e = 0; e < 4; ++e)
          sc[(wn * 32 + j * 8 + 2 * ft + e % 2) * col_step +
             (wm * 32 + i * 16 + fg + 8 * (e / 2)) * cell_step] = acc[i][j][e];
  }
  __syncthreads();

  if (d.out_channel_fast) {
    // channels_last output: lanes on consecutive channels of one output
    // element position (coalesced stores), each thread on one channel and
    // every slots-th position (cell, rh, rw) of the tile.
    const int slots = kThreads / d.channel_slots, ch = t % d.channel_slots;
    if (ch >= channels) return;
    const float bias_ch = tile_bias[ch];
    scalar_t* out_ch = out + n * d.o_sn + int64_t(g * d.cout_g + c0 + ch) * d.o_sc;
    const int positions = kTileCells * d.s_h * d.s_w;
    for (int pos = t / d.channel_slots; pos < positions; pos += slots) {
      const int cell_rh = d.by_s_w.div(pos), rw = pos - cell_rh * d.s_w;
      const int cell = d.by_s_h.div(cell_rh), rh = cell_rh - cell * d.s_h;
      const int oh = cell_oh[cell] + rh, ow = cell_ow[cell] + rw;
      if (oh < 0 || oh >= d.out_h || ow < 0 || ow >= d.out_w) continue;
      const int th = tap_h[rh], tw = tap_w[rw];
      const float v = th >= 0 && tw >= 0
                          ? bias_ch + sc[cell * kLdT + (th * d.kw + tw) * channels + ch]
                          : bias_ch;
      out_ch[int64_t(oh) * d.o_sh + int64_t(ow) * d.o_sw] = static_cast<scalar_t>(v);
    }
    return;
  }

  // Output cells. A tile's output row has kTileCells * s_w positions (cells
  // side by side, their offsets within); its rows are (rh, channel), rh-major.
  // A work item is a position and a row group q (rows q, q + G, ...), with G
  // (d.row_groups) making the items a multiple of the block: consecutive
  // threads on consecutive positions, so stores coalesce (NCHW). Per element
  // the loop only moves two pointers: the row's offsets are found once per run
  // of rows that share rh.
  const int positions = kTileCells * d.s_w, rows = channels * d.s_h, G = d.row_groups;
  scalar_t* out_ng = out + n * d.o_sn + int64_t(g * d.cout_g + c0) * d.o_sc;
  const int64_t o_step = int64_t(G) * d.o_sc;
  const int p_step = G * d.taps * kLdC;
  for (int item = t; item < positions * G; item += kThreads) {
    const int q = d.by_positions.div(item), pos = item - q * positions;
    const int cell = d.by_s_w.div(pos), rw = pos - cell * d.s_w;
    const int ow = cell_ow[cell] + rw, tw = tap_w[rw], oh0 = cell_oh[cell];
    if (ow < 0 || ow >= d.out_w) continue;
    scalar_t* out_col = out_ng + int64_t(ow) * d.o_sw;
    const float* products_col = sc + cell + max(tw, 0) * kLdC;
    for (int r = q; r < rows;) {
      const int rh = r / channels, ch0 = r - rh * channels;
      const int run = (channels - 1 - ch0) / G + 1;  // rows of this rh in the group
      const int oh = oh0 + rh, th = tap_h[rh];
      if (oh >= 0 && oh < d.out_h) {
        scalar_t* o = out_col + int64_t(oh) * d.o_sh + int64_t(ch0) * d.o_sc;
        const float* bias_ch = tile_bias + ch0;
        if (th >= 0 && tw >= 0) {
          const float* pr = products_col + (ch0 * d.taps + th * d.kw) * kLdC;
#pragma unroll 4
          for (int k = 0; k < run; ++k, o += o_step, pr += p_step, bias_ch += G)
            *o = static_cast<scalar_t>(*bias_ch + *pr);
        } else {
#pragma unroll 4
          for (int k = 0; k < run; ++k, o += o_step, bias_ch += G) *o = static_cast<scalar_t>(*bias_ch);
        }
      }
      r += run * G;
    }
  }
#endif
}

// Output positions no input cell reaches (past s*in - pad on an axis: output
// padding, or a kernel longer than the stride minus the padding): bias only.
template <typename scalar_t>
__global__ void edge_fill_kernel(int64_t channels, int64_t out_h, int64_t out_w, int64_t row0,
                                 int64_t col0, int64_t o_sn, int64_t o_sc, int64_t o_sh,
                                 int64_t o_sw, int64_t total, const scalar_t* __restrict__ bias,
                                 scalar_t* __restrict__ out) {
  const int64_t bottom = (out_h - row0) * out_w, per_plane = bottom + row0 * (out_w - col0);
  const int64_t step = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step) {
    const int64_t plane = i / per_plane, r = i - plane * per_plane;
    const int64_t n = plane / channels, c = plane - n * channels;
    int64_t oh, ow;
    if (r < bottom) {
      oh = row0 + r / out_w;
      ow = r % out_w;
    } else {
      oh = (r - bottom) / (out_w - col0);
      ow = col0 + (r - bottom) % (out_w - col0);
    }
    out[n * o_sn + c * o_sc + oh * o_sh + ow * o_sw] =
        bias ? bias[c] : static_cast<scalar_t>(0.0f);
  }
}

// The output no cell reaches (rows from row0, columns from col0 above it): bias.
template <typename scalar_t>
void fill_edges(const DisjointTaps& d, const at::Tensor& bias, at::Tensor& out, int64_t row0, int64_t col0) {
  const int64_t planes = out.size(0) * out.size(1);
  const int64_t edge = planes * ((d.out_h - row0) * d.out_w + row0 * (d.out_w - col0));
  if (edge > 0) {
    const int64_t edge_blocks = std::min<int64_t>((edge + 255) / 256, 4096);
    edge_fill_kernel<scalar_t><<<static_cast<unsigned>(edge_blocks), 256, 0, at::cuda::getCurrentCUDAStream()>>>(
        out.size(1), d.out_h, d.out_w, row0, col0, d.o_sn, d.o_sc, d.o_sh, d.o_sw, edge,
        bias.defined() ? bias.data_ptr<scalar_t>() : nullptr, out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
}

template <typename scalar_t, bool kSplit = false>
void launch(const DisjointTaps& d, int load, int64_t blocks, const at::Tensor& input,
            const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out,
            int64_t row0, int64_t col0) {
  const auto stream = at::cuda::getCurrentCUDAStream();
  const scalar_t* bias_ptr = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
  if (blocks > 0) {
    auto* kernel = load == kRowVectors ? disjoint_taps_kernel<scalar_t, kRowVectors, kSplit>
                   : load == kChannelVectors
                       ? disjoint_taps_kernel<scalar_t, kChannelVectors, kSplit>
                       : disjoint_taps_kernel<scalar_t, kElementLoads, kSplit>;
    kernel<<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        d, input.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(), bias_ptr,
        out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  }
  fill_edges<scalar_t>(d, bias, out, row0, col0);
}

bool aligned16(const void* ptr) { return reinterpret_cast<uintptr_t>(ptr) % 16 == 0; }

// Whether the input's tiles can be copied in 16-byte vectors of cells: NCHW
// rows back to back, every vector inside one plane, addresses aligned.
bool input_vectorizable(const Problem& p, const at::Tensor& input) {
  const int64_t v = 16 / input.element_size();
  return input.stride(3) == 1 && input.stride(2) == p.in_w && p.in_pixels() % v == 0 &&
         input.stride(1) % v == 0 && input.stride(0) % v == 0 && aligned16(input.data_ptr());
}

// Output channels per block: as many as kTileCols products hold; with
// vector copies, a count whose weight columns start each tile on 16 bytes.
int64_t channels_per_tile(const Problem& p, int64_t vector) {
  const int64_t taps = p.kernel_taps();
  int64_t per_tile = kTileCols / taps;
  while (vector > 1 && per_tile > 1 && (per_tile * taps) % vector != 0) --per_tile;
  return per_tile;
}

// Whether a block copies its tiles in 16-byte vectors: the input's rows and the
// weight rows of each column tile start on 16 bytes.
bool copies_vectorized(const Problem& p, const at::Tensor& input, const at::Tensor& weight) {
  const int64_t vector = 16 / input.element_size(), taps = p.kernel_taps();
  return input_vectorizable(p, input) && (p.out_per_group * taps) % vector == 0 &&
         (channels_per_tile(p, vector) * taps) % vector == 0 && aligned16(weight.data_ptr());
}

// channels_last inputs copied in 16-byte vectors along the channels: each
// pixel's channels of a group in whole vectors, aligned; B tap-major from a
// weight copy, kV columns of one tap per vector, so the output channels per
// tile must be a multiple of kV: per_tile, or 0 where that would take fewer
// channels than element loads do (#81's 3x3: 12 or 8 instead of 14 ran its
// float32 slower, 1.44 against 1.13 ms strict, 1.12 against 1.07 TF32). The
// weight copy stays within the workspace cap.
int64_t channel_vector_tile(const Problem& p, const ConvTranspose2dOptions& o,
                            const at::Tensor& input, const at::Tensor& weight) {
  const int64_t v = 16 / input.element_size();
  const int64_t per_tile = kTileCols / p.kernel_taps();
  const bool fits = input.stride(1) == 1 && p.in_per_group % v == 0 && input.stride(0) % v == 0 &&
                    input.stride(2) % v == 0 && input.stride(3) % v == 0 &&
                    aligned16(input.data_ptr()) && p.out_per_group % v == 0 && per_tile % v == 0 &&
                    weight.numel() * weight.element_size() <= o.workspace_bytes;
  return fits ? per_tile : 0;
}

int64_t block_count(const Problem& p, int64_t per_tile) {
  return p.batch * p.groups * ((p.in_pixels() + kTileCells - 1) / kTileCells) *
         ((p.out_per_group + per_tile - 1) / per_tile);
}

}  // namespace

bool disjoint_taps_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           const at::Tensor& input, const at::Tensor& weight) {
  const at::ScalarType dtype = input.scalar_type();
  // float32 without TF32: three TF32 products, accumulated by the tensor cores
  // over the whole contraction, whose error grows with its length (the implicit
  // GEMM measured 2e-6 at K = 288, 9.3e-6 at 1344 against the tests' 1e-5):
  // bounded to 512 channels per group.
  const bool tensor_core_dtype = dtype == at::kHalf || dtype == at::kBFloat16 ||
                                 (dtype == at::kFloat && (o.allow_tf32 || p.in_per_group <= 512));
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  const bool applies =
      o.disjoint_taps != 0 && tensor_core_dtype &&
      taps_disjoint(p.kernel_h, o.stride[0], o.dilation[0]) &&
      taps_disjoint(p.kernel_w, o.stride[1], o.dilation[1]) && p.kernel_taps() <= kTileCols &&
      o.stride[0] <= kMaxStride && o.stride[1] <= kMaxStride &&
      at::cuda::getCurrentDeviceProperties()->major >= 8 &&
      // 32-bit indices within a sample's plane and over blocks
      p.in_pixels() <= int_max - kTileCells && p.out_h * o.stride[0] <= int_max / 2 &&
      p.out_w * o.stride[1] <= int_max / 2 && block_count(p, 1) <= int_max &&
      p.out_per_group * p.kernel_taps() <= int_max;
  if (!applies || o.disjoint_taps > 0) return applies;
  // The default rule, from the H100 measurements (NOTES.md, sessions 14-15):
  // - taps that tile every stride cell with no gap, the input copied in
  //   16-byte vectors: U-Net's 2x2 stride 2 ran ~1.5x (TF32), 1.2x
  //   (float32) and 1.2x (float16) faster than GEMM + col2im, with no
  //   workspace; #81's cells (16 of 25 outputs bias-only) ran level in TF32,
  //   slower in float32 and float16, and stay out;
  // - channels_last inputs (channel stride 1: element loads along the
  //   channels), any disjoint cells, a whole K step of channels per group:
  //   1.2-1.7x faster than GEMM + col2im on U-Net's layer and #81 in TF32,
  //   float32 and float16 with the NCHW epilogue; 2.5-5x with the
  //   channels-fast epilogue and channel-vector staging (U-Net TF32 1.01
  //   ms against cuDNN's 1.15, #81 1.10 against 1.25).
  const bool cells_dense = p.kernel_h == o.stride[0] && p.kernel_w == o.stride[1] &&
                           o.dilation[0] == 1 && o.dilation[1] == 1;
  const bool channels_last = input.stride(1) == 1 && p.in_per_group >= kTileK;
  return (cells_dense && copies_vectorized(p, input, weight)) || channels_last;
}

void disjoint_taps_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out) {
  DisjointTaps d;
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2),
  d.x_sw = input.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  d.in_w = int(p.in_w), d.out_h = int(p.out_h), d.out_w = int(p.out_w);
  d.pixels = int(p.in_pixels());
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group), d.groups = int(p.groups);
  d.kh = int(p.kernel_h), d.kw = int(p.kernel_w), d.taps = int(p.kernel_taps());
  d.s_h = int(o.stride[0]), d.s_w = int(o.stride[1]);
  d.pad_h = int(o.padding[0]), d.pad_w = int(o.padding[1]);
  d.dil_h = int(o.dilation[0]), d.dil_w = int(o.dilation[1]);
  // 16-byte asynchronous copies where the input's layout, the weight's row
  // length and both addresses allow them (NCHW rows; channels_last pixels,
  // the weight then copied tap-major: [Cin][taps][Cout/groups]); element
  // loads otherwise.
  const int64_t channel_tile = channel_vector_tile(p, o, input, weight);
  const int load = copies_vectorized(p, input, weight) ? kRowVectors
                   : channel_tile > 0                  ? kChannelVectors
                                                       : kElementLoads;
  const at::Tensor tap_major_weight =
      load == kChannelVectors
          ? weight.view({p.in_channels, p.out_per_group, p.kernel_taps()})
                .transpose(1, 2)
                .contiguous()
          : weight;
  const int64_t vector = load == kRowVectors ? 16 / input.element_size() : 1;
  d.channels_per_tile =
      int(load == kChannelVectors ? channel_tile : channels_per_tile(p, vector));
  d.col_tiles = int((p.out_per_group + d.channels_per_tile - 1) / d.channels_per_tile);
  d.cell_tiles = int((p.in_pixels() + kTileCells - 1) / kTileCells);
  d.channel_fast = input.stride(1) == 1 && p.in_per_group > 1;
  d.out_channel_fast = load == kChannelVectors ||
                       (load == kElementLoads && out.stride(1) == 1 && p.out_channels() > 1);
  d.channel_slots = int(pow2_at_least(d.channels_per_tile));
  d.by_s_h = Divider<int32_t>(d.s_h);
  d.by_s_w = Divider<int32_t>(d.s_w);
  const int positions = kTileCells * d.s_w;
  int common = kThreads;  // gcd(positions, kThreads): both are multiples of 64
  while (positions % common != 0) common /= 2;
  d.row_groups = kThreads / common;
  d.by_positions = Divider<int32_t>(positions);
  // Output reached by no cell: rows from row0, and columns from col0 above it.
  const int64_t row0 = std::min(p.out_h, std::max<int64_t>(0, cell_origin(p.in_h, d.s_h, d.pad_h)));
  const int64_t col0 = std::min(p.out_w, std::max<int64_t>(0, cell_origin(p.in_w, d.s_w, d.pad_w)));
  if (load == kRowVectors && disjoint_wgmma_applies(p, o, input)) {
    disjoint_wgmma_cuda(p, o, input, weight, bias, out);
    fill_edges<float>(d, bias, out, row0, col0);
    return;
  }
  const int64_t blocks = block_count(p, d.channels_per_tile);
  switch (input.scalar_type()) {
    case at::kFloat:
      if (o.allow_tf32)
        launch<float>(d, load, blocks, input, tap_major_weight, bias, out, row0, col0);
      else
        launch<float, true>(d, load, blocks, input, tap_major_weight, bias, out, row0, col0);
      break;
    case at::kHalf:
      launch<c10::Half>(d, load, blocks, input, tap_major_weight, bias, out, row0, col0);
      break;
    case at::kBFloat16:
      launch<c10::BFloat16>(d, load, blocks, input, tap_major_weight, bias, out, row0, col0);
      break;
    default: TORCH_CHECK(false, "gemm_convt: disjoint taps: unexpected dtype ", input.scalar_type());
  }
}

}  // namespace gemm_convt
