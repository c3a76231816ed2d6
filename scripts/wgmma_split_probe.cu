// Probe (session 27): can wgmma (sm_90a) run the implicit GEMM's split float32
// (three TF32 products) faster than the library's mma.sync kernel?
// Standalone: a stride-1 transposed convolution (no padding) laid out as the
// library's implicit GEMM lays it out: a block takes 64 * kWgM output
// positions of one output row x 64 output channels; per landing row tap and 16
// input channels it stages the input row segment ([column][channel], 80-byte
// rows: ldmatrix fragments, as implicit_gemm.cu) and, per width tap, the
// weight's TF32 high and low parts (core matrices, the wgmma B operand).
// Each warpgroup loads its A fragments (the input, shifted per tap) with
// ldmatrix, splits them in registers and issues lo x hi, hi x lo, hi x hi.
// Checks against float64, then times kb69 (and a TF32 one-product variant).
// Later forms (calls 3-6): both operands from shared memory, a cp.async ring, and
// the bulk-staged kernel the library took (cuda/implicit_wgmma*); `unit` checks
// the descriptor conventions alone. Host side tidied after its runs (calls 1-6
// ran d1445fa and earlier).
//   nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a wgmma_split_probe.cu
//   ./a.out [unit | split | tf32]
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <string>
#include <vector>

#include "../cuda/ptx.cuh"
#include "../cuda/wgmma.cuh"

using namespace gemm_convt;

#define CHECK(x)                                                                              \
  do {                                                                                        \
    cudaError_t e = (x);                                                                      \
    if (e != cudaSuccess) {                                                                   \
      printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__, __LINE__);         \
      exit(1);                                                                                \
    }                                                                                         \
  } while (0)

constexpr int kChunkK = 16, kLd = 20, kN = 64;
constexpr uint32_t kBTileBytes = kN * kChunkK * 4;  // one (tap, part) weight tile

struct Geo {
  int n, cin, cout, kh, kw, h, w, oh, ow, m_tiles, a_rows;
};

__device__ __forceinline__ void ldsm_x4(uint32_t address, uint32_t (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
__device__ __forceinline__ void wgmma_n64(float (&d)[32], const uint32_t (&a)[4], uint64_t b) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
}
__device__ __forceinline__ void keep(float (&d)[32]) {
  asm volatile("" : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]) :: "memory");
}
__device__ __forceinline__ void keep(uint32_t (&a)[4]) {
  asm volatile("" : "+r"(a[0]), "+r"(a[1]), "+r"(a[2]), "+r"(a[3])::"memory");
}

template <int kWgM, bool kSplit, int kStages>
__global__ void __launch_bounds__(128 * kWgM) probe_kernel(Geo g, const float* __restrict__ x,
                                                           const float* __restrict__ wp,
                                                           const float* __restrict__ bias,
                                                           float* __restrict__ out) {
  extern __shared__ __align__(128) float smem[];
  constexpr int kTM = 64 * kWgM, kThreads = 128 * kWgM;
  constexpr int kParts = kSplit ? 2 : 1;
  const int a_floats = g.a_rows * kLd;
  constexpr int kBTile = kN * kChunkK;  // floats of one (tap, part) tile
  const int buffer_floats = a_floats + g.kw * kParts * kBTile;
  const int oh = int(blockIdx.x) / g.m_tiles, ow0 = (int(blockIdx.x) % g.m_tiles) * kTM;
  const int co_tiles = g.cout / kN;
  const int n = int(blockIdx.y) / co_tiles, co0 = (int(blockIdx.y) % co_tiles) * kN;
  const int i_lo = max(0, oh - g.h + 1), i_hi = min(g.kh - 1, oh);
  const int chunks = g.cin / kChunkK, steps = (i_hi - i_lo + 1) * chunks;
  const int tid = int(threadIdx.x), lane = tid & 31, warp = tid >> 5, wg = warp >> 2, wq = warp & 3;
  const uint32_t smem_base = uint32_t(__cvta_generic_to_shared(smem));

  const auto stage = [&](int s, int buf) {
    const int i = i_lo + s / chunks, c0 = (s % chunks) * kChunkK, q = oh - i;
    const uint32_t base = smem_base + uint32_t(buf * buffer_floats) * 4;
    for (int e = tid; e < g.a_rows * 4; e += kThreads) {
      const int r = e >> 2, quad = e & 3, col = ow0 - (g.kw - 1) + r;
      const bool in = col >= 0 && col < g.w;
      const float* src = x + ((int64_t(n) * g.h + q) * g.w + (in ? col : 0)) * g.cin + c0 + quad * 4;
      copy_async_16(base + uint32_t(r * kLd + quad * 4) * 4, src, in);
    }
    for (int e = tid; e < g.kw * kParts * kN * 4; e += kThreads) {
      const int kq = e & 3, nn = (e >> 2) % kN, jp = (e >> 2) / kN;
      const int j = jp / kParts, p = jp % kParts;
      const float* src = wp + (((int64_t(i) * g.kw + j) * 2 + p) * g.cout + co0 + nn) * g.cin + c0 + kq * 4;
      const uint32_t dst = base + uint32_t(a_floats + jp * kBTile) * 4 + (nn >> 3) * 512 + kq * 128 + (nn & 7) * 16;
      copy_async_16(dst, src);
    }
    copy_async_commit();
  };

  float acc[32], part[32];
#pragma unroll
  for (int e = 0; e < 32; ++e) acc[e] = 0.0f, part[e] = 0.0f;
  uint32_t hi[2][4], xr[2][4], lo[2][4];
#pragma unroll
  for (int u = 0; u < 2; ++u)
#pragma unroll
    for (int r = 0; r < 4; ++r) hi[u][r] = xr[u][r] = lo[u][r] = 0u;
  const int tile_row = lane >> 3;
  const int a_lane_row = wg * 64 + wq * 16 + (tile_row & 1) * 8 + (lane & 7);
  const int a_lane_k = (tile_row >> 1) * 4;

  // kStages buffers in a ring: stage s + kStages - 1 is copied while s is computed.
#pragma unroll
  for (int p = 0; p < kStages - 1; ++p) {
    if (p < steps) stage(p, p);
    else copy_async_commit();  // empty groups keep the wait count uniform
  }
  for (int s = 0; s < steps; ++s) {
    const int buf = s % kStages;
    copy_async_wait<kStages - 2>();
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();  // stage s is in; stage s - 1's buffer is free (its products waited for)
    if (s + kStages - 1 < steps) stage(s + kStages - 1, (s + kStages - 1) % kStages);
    else copy_async_commit();
    const uint32_t a_base = smem_base + uint32_t(buf * buffer_floats + a_lane_row * kLd + a_lane_k) * 4;
    const uint32_t b_base = smem_base + uint32_t(buf * buffer_floats + a_floats) * 4;
    for (int j = 0; j < g.kw; ++j) {
#pragma unroll
      for (int kk = 0; kk < 2; ++kk) {
        uint32_t a[4];
        ldsm_x4(a_base + uint32_t((g.kw - 1 - j) * kLd + kk * 8) * 4, a);
        wgmma_wait<1>();  // the products that read this set's registers two groups ago are done
        keep(hi[kk]);
        keep(xr[kk]);
        keep(lo[kk]);
        const uint32_t bh = b_base + uint32_t(j * kParts * kBTile) * 4 + kk * 256;  // k8: two core matrices
        if (kSplit) {
#pragma unroll
          for (int r = 0; r < 4; ++r) {
            hi[kk][r] = (a[r] + 0x1000u) & 0xffffe000u;
            xr[kk][r] = hi[kk][r];
            lo[kk][r] = __float_as_uint(__uint_as_float(a[r]) - __uint_as_float(hi[kk][r]));
          }
          const uint32_t bl = bh + uint32_t(kBTile) * 4;
          wgmma_fence();
          wgmma_n64(part, lo[kk], smem_desc(bh, 128, 512));
          wgmma_n64(part, xr[kk], smem_desc(bl, 128, 512));
          wgmma_n64(part, hi[kk], smem_desc(bh, 128, 512));
        } else {
#pragma unroll
          for (int r = 0; r < 4; ++r) hi[kk][r] = (a[r] + 0x1000u) & 0xffffe000u;
          wgmma_fence();
          wgmma_n64(part, hi[kk], smem_desc(bh, 128, 512));
        }
        wgmma_commit();
      }
    }
    wgmma_wait<0>();
    keep(part);
#pragma unroll
    for (int e = 0; e < 32; ++e) acc[e] += part[e], part[e] = 0.0f;
  }
  // acc[4 j8 + r]: position wg*64 + wq*16 + lane/4 (+8 for r >= 2), channel 8 j8 + 2 (lane % 4) + r % 2.
#pragma unroll
  for (int e = 0; e < 32; ++e) {
    const int m = wg * 64 + wq * 16 + (lane >> 2) + ((e >> 1) & 1) * 8;
    const int co = co0 + (e >> 2) * 8 + 2 * (lane & 3) + (e & 1);
    const int ow = ow0 + m;
    if (ow < g.ow) out[((int64_t(n) * g.cout + co) * g.oh + oh) * g.ow + ow] = acc[e] + bias[co];
  }
}

// A warpgroup's accumulators (64 positions x 64 channels, the m64n64 layout) plus bias, NCHW.
__device__ __forceinline__ void store_tile(const Geo& g, const float (&acc)[32], int tid, int n, int oh, int ow0,
                                           int co0, const float* __restrict__ bias, float* __restrict__ out) {
  const int lane = tid & 31, wq = (tid >> 5) & 3, wg = tid >> 7;
#pragma unroll
  for (int e = 0; e < 32; ++e) {
    const int m = wg * 64 + wq * 16 + (lane >> 2) + ((e >> 1) & 1) * 8;
    const int co = co0 + (e >> 2) * 8 + 2 * (lane & 3) + (e & 1);
    const int ow = ow0 + m;
    if (ow < g.ow) out[((int64_t(n) * g.cout + co) * g.oh + oh) * g.ow + ow] = acc[e] + bias[co];
  }
}

// Both operands from shared memory (SS): the input staged split, as TF32 high
// and low tiles, each [channel quad][column] of 16-byte rows, so a width tap's
// shift of the positions is a shift of the descriptor's start (16 bytes a
// column); the weight's parts as before. A stage's wgmma are issued back to
// back, one commit; the next stage's input loads fly meanwhile.
template <int kWgM, bool kSplit>
__global__ void __launch_bounds__(128 * kWgM) probe_ss_kernel(Geo g, const float* __restrict__ x,
                                                              const float* __restrict__ wp,
                                                              const float* __restrict__ bias,
                                                              float* __restrict__ out) {
  extern __shared__ __align__(128) float smem[];
  constexpr int kTM = 64 * kWgM, kThreads = 128 * kWgM;
  constexpr int kParts = kSplit ? 2 : 1;
  constexpr int kBTile = kN * kChunkK;
  const int a_part = g.a_rows * kChunkK;  // floats: 4 planes of a_rows 16-byte rows
  const int buffer_floats = kParts * a_part + g.kw * kParts * kBTile;
  const int oh = int(blockIdx.x) / g.m_tiles, ow0 = (int(blockIdx.x) % g.m_tiles) * kTM;
  const int co_tiles = g.cout / kN;
  const int n = int(blockIdx.y) / co_tiles, co0 = (int(blockIdx.y) % co_tiles) * kN;
  const int i_lo = max(0, oh - g.h + 1), i_hi = min(g.kh - 1, oh);
  const int chunks = g.cin / kChunkK, steps = (i_hi - i_lo + 1) * chunks;
  const int tid = int(threadIdx.x), wg = tid >> 7;
  const uint32_t smem_base = uint32_t(__cvta_generic_to_shared(smem));
  constexpr int kHeld = (64 * 4 + 8 * 4 + kThreads - 1) / kThreads + 1;  // float4s per thread (kw <= 9)
  float4 held[kHeld];

  const auto load_a = [&](int s) {
    const int i = i_lo + s / chunks, c0 = (s % chunks) * kChunkK, q = oh - i;
#pragma unroll
    for (int u = 0; u < kHeld; ++u) {
      const int e = tid + u * kThreads, r = e >> 2, quad = e & 3, col = ow0 - (g.kw - 1) + r;
      held[u] = make_float4(0.f, 0.f, 0.f, 0.f);
      if (r < g.a_rows && col >= 0 && col < g.w)
        held[u] = *reinterpret_cast<const float4*>(x + ((int64_t(n) * g.h + q) * g.w + col) * g.cin + c0 + quad * 4);
    }
  };
  const auto store_a = [&](int buf) {
    float* a = smem + buf * buffer_floats;
#pragma unroll
    for (int u = 0; u < kHeld; ++u) {
      const int e = tid + u * kThreads, r = e >> 2, quad = e & 3;
      if (r >= g.a_rows) continue;
      float4 v = held[u];
      float* dst = a + quad * g.a_rows * 4 + r * 4;
      if (kSplit) {
        float4 h;
        h.x = __uint_as_float((__float_as_uint(v.x) + 0x1000u) & 0xffffe000u);
        h.y = __uint_as_float((__float_as_uint(v.y) + 0x1000u) & 0xffffe000u);
        h.z = __uint_as_float((__float_as_uint(v.z) + 0x1000u) & 0xffffe000u);
        h.w = __uint_as_float((__float_as_uint(v.w) + 0x1000u) & 0xffffe000u);
        *reinterpret_cast<float4*>(dst) = h;
        *reinterpret_cast<float4*>(dst + a_part) = make_float4(v.x - h.x, v.y - h.y, v.z - h.z, v.w - h.w);
      } else {
        *reinterpret_cast<float4*>(dst) = v;
      }
    }
  };
  const auto copy_b = [&](int s, int buf) {
    const int i = i_lo + s / chunks, c0 = (s % chunks) * kChunkK;
    const uint32_t base = smem_base + uint32_t(buf * buffer_floats + kParts * a_part) * 4;
    for (int e = tid; e < g.kw * kParts * kN * 4; e += kThreads) {
      const int kq = e & 3, nn = (e >> 2) % kN, jp = (e >> 2) / kN;
      const int j = jp / kParts, p = jp % kParts;
      const float* src = wp + (((int64_t(i) * g.kw + j) * 2 + p) * g.cout + co0 + nn) * g.cin + c0 + kq * 4;
      copy_async_16(base + uint32_t(jp * kBTile) * 4 + (nn >> 3) * 512 + kq * 128 + (nn & 7) * 16, src);
    }
    copy_async_commit();
  };

  float acc[32], part[32];
#pragma unroll
  for (int e = 0; e < 32; ++e) acc[e] = 0.0f, part[e] = 0.0f;
  if (steps > 0) {
    copy_b(0, 0);
    load_a(0);
    store_a(0);
  }
  const uint32_t lbo_a = uint32_t(g.a_rows) * 16;
  for (int s = 0; s < steps; ++s) {
    const int buf = s & 1;
    copy_async_wait<0>();
    asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
    __syncthreads();
    if (s + 1 < steps) {
      copy_b(s + 1, buf ^ 1);
      load_a(s + 1);
    }
    const uint32_t a_base = smem_base + uint32_t(buf * buffer_floats) * 4 + uint32_t(wg * 64) * 16;
    const uint32_t b_base = smem_base + uint32_t(buf * buffer_floats + kParts * a_part) * 4;
    wgmma_fence();
    for (int j = 0; j < g.kw; ++j) {
      const uint32_t a_hi = a_base + uint32_t(g.kw - 1 - j) * 16;
#pragma unroll
      for (int kk = 0; kk < 2; ++kk) {
        const uint32_t ah = a_hi + kk * 2 * lbo_a;
        const uint32_t bh = b_base + uint32_t(j * kParts * kBTile) * 4 + kk * 256;
        const int first = j == 0 && kk == 0 ? 0 : 1;  // the stage's first product overwrites part
        if (kSplit) {
          const uint32_t al = ah + uint32_t(a_part) * 4, bl = bh + uint32_t(kBTile) * 4;
          wgmma_64x64x8(part, smem_desc(al, lbo_a, 128), smem_desc(bh, 128, 512), first);
          wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bl, 128, 512), 1);
          wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bh, 128, 512), 1);
        } else {
          wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bh, 128, 512), first);
        }
      }
    }
    wgmma_commit();
    if (s + 1 < steps) store_a(buf ^ 1);
    wgmma_wait<0>();
    keep(part);
#pragma unroll
    for (int e = 0; e < 32; ++e) acc[e] += part[e];
  }
  store_tile(g, acc, tid, n, oh, ow0, co0, bias, out);
}

// Bulk-staged (session 27, call 6): the input packed beforehand (per sample,
// row and 16-channel block: [part][channel quad][padded column][4]) and the
// weight packed as core-matrix tiles ([i][channel block][channel tile][j]
// [part][4 KB]), so that a stage is one bulk copy of the weights and 4 (TF32)
// or 8 (split) of the input, issued by one producer thread on an mbarrier;
// the consumer warpgroups wait on it, issue the stage's wgmma (both operands
// from shared memory) and release the buffer. No per-thread staging work.
struct Packed {
  int wp;  // padded columns per (sample, row, block, part, quad)
};

template <int kWgM, bool kSplit, int kStages>
__global__ void __launch_bounds__(128 * kWgM + 32) probe_bulk_kernel(Geo g, Packed pk, const float* __restrict__ xp,
                                                                     const float* __restrict__ wt,
                                                                     const float* __restrict__ bias,
                                                                     float* __restrict__ out) {
  extern __shared__ __align__(1024) float smem[];
  __shared__ __align__(8) uint64_t bars[2 * kStages];  // full, then empty
  constexpr int kTM = 64 * kWgM, kParts = kSplit ? 2 : 1;
  const int a_plane = g.a_rows * 4;  // floats of one quad plane
  const int a_floats = kParts * 4 * a_plane;
  const int b_floats = g.kw * kParts * kN * kChunkK;
  const int stage_floats = a_floats + b_floats;
  const int oh = int(blockIdx.x) / g.m_tiles, ow0 = (int(blockIdx.x) % g.m_tiles) * kTM;
  const int co_tiles = g.cout / kN;
  const int n = int(blockIdx.y) / co_tiles, co_tile = int(blockIdx.y) % co_tiles, co0 = co_tile * kN;
  const int i_lo = max(0, oh - g.h + 1), i_hi = min(g.kh - 1, oh);
  const int chunks = g.cin / kChunkK, steps = (i_hi - i_lo + 1) * chunks;
  const int tid = int(threadIdx.x), wg = tid >> 7;
  const uint32_t smem_base = uint32_t(__cvta_generic_to_shared(smem));
  const MbarRing<kStages> ring(bars);
  if (tid == 0) ring.init(kWgM * 4);
  __syncthreads();

  if (wg == kWgM) {  // producer warp
    if (tid == kWgM * 128) {
      for (int s = 0; s < steps; ++s) {
        const int b = s % kStages;
        mbar_wait(ring.empty(b), ((s / kStages) & 1) ^ 1);
        const int i = i_lo + s / chunks, cb = s % chunks, q = oh - i;
        const uint32_t a_bytes = uint32_t(g.a_rows) * 16;
        mbar_expect_tx(ring.full(b), kParts * 4 * a_bytes + uint32_t(b_floats) * 4);
        const uint32_t dst = smem_base + uint32_t(b * stage_floats) * 4;
        const float* src = xp + (((int64_t(n) * g.h + q) * chunks + cb) * kParts * 4) * int64_t(pk.wp) * 4 + ow0 * 4;
        for (int pq = 0; pq < kParts * 4; ++pq)
          bulk_copy(dst + pq * a_bytes, src + int64_t(pq) * pk.wp * 4, a_bytes, ring.full(b));
        const float* wsrc = wt + ((int64_t(i) * chunks + cb) * co_tiles + co_tile) * b_floats;
        bulk_copy(dst + uint32_t(a_floats) * 4, wsrc, uint32_t(b_floats) * 4, ring.full(b));
      }
    }
    return;
  }

  float acc[32], part[32];
#pragma unroll
  for (int e = 0; e < 32; ++e) acc[e] = 0.0f, part[e] = 0.0f;
  const uint32_t lbo_a = uint32_t(g.a_rows) * 16;
  for (int s = 0; s < steps; ++s) {
    const int b = s % kStages;
    mbar_wait(ring.full(b), (s / kStages) & 1);
    const uint32_t a_base = smem_base + uint32_t(b * stage_floats) * 4 + uint32_t(wg * 64) * 16;
    const uint32_t b_base = smem_base + uint32_t(b * stage_floats + a_floats) * 4;
    wgmma_fence();
    for (int j = 0; j < g.kw; ++j) {
      const uint32_t a_hi = a_base + uint32_t(g.kw - 1 - j) * 16;
#pragma unroll
      for (int kk = 0; kk < 2; ++kk) {
        const uint32_t ah = a_hi + kk * 2 * lbo_a;
        const uint32_t bh = b_base + uint32_t(j * kParts * kBTileBytes) + kk * 256;
        const int first = j == 0 && kk == 0 ? 0 : 1;
        if (kSplit) {
          const uint32_t al = ah + 4 * lbo_a, bl = bh + kBTileBytes;
          wgmma_64x64x8(part, smem_desc(al, lbo_a, 128), smem_desc(bh, 128, 512), first);
          wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bl, 128, 512), 1);
          wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bh, 128, 512), 1);
        } else {
          wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bh, 128, 512), first);
        }
      }
    }
    wgmma_commit();
    wgmma_wait<0>();
    keep(part);
    if ((tid & 31) == 0) mbar_arrive(ring.empty(b));
#pragma unroll
    for (int e = 0; e < 32; ++e) acc[e] += part[e];
  }
  store_tile(g, acc, tid, n, oh, ow0, co0, bias, out);
}

// Input NHWC -> [n][h][block][part][quad][wp][4], column c at wp index c + kw - 1, zeros around.
__global__ void pack_input_kernel(Geo g, Packed pk, int parts, const float* __restrict__ x, float* __restrict__ xp) {
  const int chunks = g.cin / kChunkK;
  const int64_t total = int64_t(g.n) * g.h * chunks * parts * 4 * pk.wp;  // float4s
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int pc = int(e % pk.wp);
    int64_t r = e / pk.wp;
    const int quad = int(r % 4);
    r /= 4;
    const int p = int(r % parts);
    r /= parts;
    const int cb = int(r % chunks);
    r /= chunks;  // n * h + row
    const int col = pc - (g.kw - 1);
    float4 v = make_float4(0.f, 0.f, 0.f, 0.f);
    if (col >= 0 && col < g.w) {
      v = *reinterpret_cast<const float4*>(x + (r * g.w + col) * g.cin + cb * kChunkK + quad * 4);
      if (parts == 2) {
        float4 h;
        h.x = __uint_as_float((__float_as_uint(v.x) + 0x1000u) & 0xffffe000u);
        h.y = __uint_as_float((__float_as_uint(v.y) + 0x1000u) & 0xffffe000u);
        h.z = __uint_as_float((__float_as_uint(v.z) + 0x1000u) & 0xffffe000u);
        h.w = __uint_as_float((__float_as_uint(v.w) + 0x1000u) & 0xffffe000u);
        v = p == 0 ? h : make_float4(v.x - h.x, v.y - h.y, v.z - h.z, v.w - h.w);
      }
    }
    reinterpret_cast<float4*>(xp)[e] = v;
  }
}

// One output in float64 from the original weight [cin][cout][kh][kw].
__global__ void reference_kernel(Geo g, const float* x, const float* w, const float* bias, const float* out,
                                 int64_t count, uint64_t seed, double* err) {
  int64_t total = int64_t(g.n) * g.cout * g.oh * g.ow;
  for (int64_t t = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; t < count; t += int64_t(gridDim.x) * blockDim.x) {
    uint64_t h = (uint64_t(t) + 1) * 0x9E3779B97F4A7C15ull ^ seed;
    h ^= h >> 31;
    h *= 0xBF58476D1CE4E5B9ull;
    h ^= h >> 29;
    const int64_t o = count >= total ? t : int64_t(h % uint64_t(total));
    const int ow = int(o % g.ow), oh = int(o / g.ow % g.oh), co = int(o / g.ow / g.oh % g.cout),
              n = int(o / g.ow / g.oh / g.cout);
    double s = bias[co], mag = fabs(double(bias[co]));
    for (int i = 0; i < g.kh; ++i)
      for (int j = 0; j < g.kw; ++j) {
        const int q = oh - i, c = ow - j;
        if (q < 0 || q >= g.h || c < 0 || c >= g.w) continue;
        for (int ci = 0; ci < g.cin; ++ci) {
          const double p = double(w[((int64_t(ci) * g.cout + co) * g.kh + i) * g.kw + j]) *
                           double(x[((int64_t(n) * g.h + q) * g.w + c) * g.cin + ci]);
          s += p;
          mag += fabs(p);
        }
      }
    const double d = double(out[o]) - s;
    atomicAdd(&err[0], d * d);
    atomicAdd(&err[1], s * s);
    if (!(fabs(d) <= 1e30)) atomicAdd(&err[2], 1.0);  // NaN / unwritten
  }
}

__global__ void fill_kernel(float* p, int64_t count, uint32_t seed) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count; e += int64_t(gridDim.x) * blockDim.x) {
    uint32_t h = uint32_t(e) * 2654435761u ^ seed;
    h ^= h >> 15;
    h *= 2246822519u;
    h ^= h >> 13;
    h *= 3266489917u;
    h ^= h >> 16;
    p[e] = float(h) * (2.0f / 4294967296.0f) - 1.0f;
  }
}

static uint32_t hi_bits(uint32_t b) { return (b + 0x1000u) & 0xffffe000u; }

struct Run {
  Geo g;
  float *x, *w, *wp, *bias, *out;
  std::vector<float> host_w;
};

Run make(int n, int cin, int cout, int kh, int kw, int h, int w, int wg_m, uint32_t seed) {
  Run r;
  Geo& g = r.g;
  g.n = n, g.cin = cin, g.cout = cout, g.kh = kh, g.kw = kw, g.h = h, g.w = w;
  g.oh = h + kh - 1, g.ow = w + kw - 1;
  g.m_tiles = (g.ow + 64 * wg_m - 1) / (64 * wg_m);
  g.a_rows = (64 * wg_m + kw - 1 + 7) / 8 * 8;
  const int64_t xs = int64_t(n) * h * w * cin, ws = int64_t(cin) * cout * kh * kw, os = int64_t(n) * cout * g.oh * g.ow;
  CHECK(cudaMalloc(&r.x, xs * 4));
  CHECK(cudaMalloc(&r.w, ws * 4));
  CHECK(cudaMalloc(&r.wp, 2 * ws * 4));
  CHECK(cudaMalloc(&r.bias, cout * 4));
  CHECK(cudaMalloc(&r.out, os * 4));
  fill_kernel<<<1024, 256>>>(r.x, xs, seed);
  fill_kernel<<<1024, 256>>>(r.w, ws, seed * 7 + 1);
  fill_kernel<<<1, 256>>>(r.bias, cout, seed * 13 + 5);
  CHECK(cudaGetLastError());
  std::vector<float> hw(ws), hp(2 * ws);
  CHECK(cudaMemcpy(hw.data(), r.w, ws * 4, cudaMemcpyDeviceToHost));
  // packed [i][j][part][cout][cin]
  for (int ci = 0; ci < cin; ++ci)
    for (int co = 0; co < cout; ++co)
      for (int i = 0; i < kh; ++i)
        for (int j = 0; j < kw; ++j) {
          const float v = hw[((int64_t(ci) * cout + co) * kh + i) * kw + j];
          uint32_t b;
          memcpy(&b, &v, 4);
          const uint32_t hb = hi_bits(b);
          float hv;
          memcpy(&hv, &hb, 4);
          const int64_t base = ((int64_t(i) * kw + j) * 2) * cout;
          hp[(base + co) * cin + ci] = hv;
          hp[(base + cout + co) * cin + ci] = v - hv;
        }
  CHECK(cudaMemcpy(r.wp, hp.data(), 2 * ws * 4, cudaMemcpyHostToDevice));
  r.host_w = hp;  // [i][j][part][cout][cin]
  return r;
}

// One warpgroup, one m64n64k8 TF32 product: A [64][8] from registers (the
// ldmatrix fragment layout), B [64 n][8 k] in shared memory as core matrices
// (offset(n, k) = (n / 8) * sbo_data + (k / 4) * lbo_data + (n % 8) * 16 + (k % 4) * 4).
// Raw accumulators out: d[thread][32].
__global__ void unit_kernel(const float* a, const float* b, float* d, int lbo_data, int sbo_data, int lbo_desc,
                            int sbo_desc) {
  __shared__ __align__(1024) float sb[64 * 8 * 4];
  __shared__ __align__(128) float sa[64 * kLd];
  const int tid = threadIdx.x, lane = tid & 31, wq = tid >> 5;
  for (int e = tid; e < 64 * 8; e += 128) {
    const int n = e / 8, k = e % 8;
    sb[((n / 8) * sbo_data + (k / 4) * lbo_data + (n % 8) * 16 + (k % 4) * 4) / 4] = b[n * 8 + k];
    sa[n * kLd + k] = a[n * 8 + k];  // a [m][k], same index range
  }
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();
  const int tile_row = lane >> 3;
  const int row = wq * 16 + (tile_row & 1) * 8 + (lane & 7), kof = (tile_row >> 1) * 4;
  uint32_t f[4];
  ldsm_x4(uint32_t(__cvta_generic_to_shared(sa + row * kLd + kof)), f);
  float acc[32];
  for (int e = 0; e < 32; ++e) acc[e] = 0.0f;
  wgmma_fence();
  wgmma_n64(acc, f, smem_desc(uint32_t(__cvta_generic_to_shared(sb)), lbo_desc, sbo_desc));
  wgmma_commit();
  wgmma_wait<0>();
  keep(acc);
  for (int e = 0; e < 32; ++e) d[tid * 32 + e] = acc[e];
}

// The descriptor conventions (session 27, call 2): four data layouts x descriptors; the
// right pair puts all 4096 products in place.
int unit_check() {
  std::vector<float> a(64 * 8), b(64 * 8), c(64 * 64);
  std::mt19937 rng(5);
  for (auto& v : a) v = float(int(rng() % 17) - 8);
  for (auto& v : b) v = float(int(rng() % 17) - 8) * 16.0f + float(rng() % 3);  // distinct-ish
  for (int m = 0; m < 64; ++m)
    for (int n = 0; n < 64; ++n) {
      double s = 0;
      for (int k = 0; k < 8; ++k) s += double(a[m * 8 + k]) * b[n * 8 + k];
      c[m * 64 + n] = float(s);
    }
  float *da, *db, *dd;
  CHECK(cudaMalloc(&da, 64 * 8 * 4));
  CHECK(cudaMalloc(&db, 64 * 8 * 4));
  CHECK(cudaMalloc(&dd, 128 * 32 * 4));
  CHECK(cudaMemcpy(da, a.data(), 64 * 8 * 4, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(db, b.data(), 64 * 8 * 4, cudaMemcpyHostToDevice));
  const int variants[][4] = {{128, 512, 128, 512}, {128, 512, 512, 128}, {1024, 128, 1024, 128}, {1024, 128, 128, 1024}};
  for (auto& v : variants) {
    CHECK(cudaMemset(dd, 0, 128 * 32 * 4));
    unit_kernel<<<1, 128>>>(da, db, dd, v[0], v[1], v[2], v[3]);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    std::vector<float> d(128 * 32);
    CHECK(cudaMemcpy(d.data(), dd, d.size() * 4, cudaMemcpyDeviceToHost));
    int good = 0, found = 0;
    for (int t = 0; t < 128; ++t)
      for (int e = 0; e < 32; ++e) {
        const int lane = t & 31, w = t >> 5;
        const int m = w * 16 + (lane >> 2) + ((e >> 1) & 1) * 8, n = (e >> 2) * 8 + 2 * (lane & 3) + (e & 1);
        good += d[t * 32 + e] == c[m * 64 + n];
        for (int q = 0; q < 64 * 64; ++q)
          if (d[t * 32 + e] == c[q]) {
            ++found;
            break;
          }
      }
    printf("data lbo %4d sbo %4d, desc lbo %4d sbo %4d: %4d / 4096 at the expected place, %4d found anywhere\n", v[0],
           v[1], v[2], v[3], good, found);
    if (good < 4096)
      for (int e = 0; e < 4; ++e) {  // thread 0's first values: where they are in C
        printf("   thread 0 d[%d] = %g at C:", e, d[e]);
        for (int q = 0; q < 64 * 64; ++q)
          if (d[e] == c[q]) printf(" (%d,%d)", q / 64, q % 64);
        printf("\n");
      }
  }
  return 0;
}

// Median of reps launches (CUDA events around each).
template <typename Launch>
float median_ms(int reps, Launch launch_once) {
  cudaEvent_t e0, e1;
  CHECK(cudaEventCreate(&e0));
  CHECK(cudaEventCreate(&e1));
  std::vector<float> times;
  for (int rep = 0; rep < reps; ++rep) {
    CHECK(cudaEventRecord(e0));
    launch_once();
    CHECK(cudaEventRecord(e1));
    CHECK(cudaEventSynchronize(e1));
    CHECK(cudaGetLastError());
    float ms;
    CHECK(cudaEventElapsedTime(&ms, e0, e1));
    times.push_back(ms);
  }
  std::sort(times.begin(), times.end());
  return times[times.size() / 2];
}

// One run (after NaN poison: unwritten outputs fail) against float64 on samples outputs.
template <typename Launch>
void report_error(const char* label, const char* tag, bool split, const Run& r, int64_t samples, Launch run_once) {
  const Geo& g = r.g;
  const int64_t os = int64_t(g.n) * g.cout * g.oh * g.ow;
  CHECK(cudaMemset(r.out, 0xff, os * 4));
  run_once();
  double* err;
  CHECK(cudaMalloc(&err, 3 * sizeof(double)));
  CHECK(cudaMemset(err, 0, 3 * sizeof(double)));
  reference_kernel<<<264, 256>>>(g, r.x, r.w, r.bias, r.out, std::min(samples, os), 12345, err);
  CHECK(cudaGetLastError());
  double h[3];
  CHECK(cudaMemcpy(h, err, sizeof(h), cudaMemcpyDeviceToHost));
  const double rel = sqrt(h[0] / h[1]);
  printf("check %-28s %s %s: rel err %.2e, non-finite %.0f  (%s)\n", label, tag, split ? "split" : "tf32 ", rel, h[2],
         (h[2] == 0 && rel < (split ? 1e-5 : 2e-3)) ? "ok" : "FAIL");
  CHECK(cudaFree(err));
}

void report_time(const char* label, const char* tag, bool split, const Run& r, float ms, float pack_ms) {
  const Geo& g = r.g;
  const double macs = double(g.n) * g.h * g.w * g.cin * g.cout * g.kh * g.kw;
  printf("time  %-28s %s %s: %.3f ms (+ input pack %.3f), %.1f TFLOP/s useful (%.1f in TF32 products)\n", label, tag,
         split ? "split" : "tf32 ", ms, pack_ms, 2 * macs / ms / 1e9, 2 * macs * (split ? 3 : 1) / ms / 1e9);
}

template <int kWgM, bool kSplit, bool kSS = false, int kStages = 2>
float launch(const Run& r, int reps) {
  const Geo& g = r.g;
  const int parts = kSplit ? 2 : 1;
  const size_t smem = kSS ? size_t(parts * g.a_rows * kChunkK + g.kw * parts * kN * kChunkK) * 4 * 2
                          : size_t(g.a_rows * kLd + g.kw * parts * kN * kChunkK) * 4 * kStages;
  auto kernel = kSS ? probe_ss_kernel<kWgM, kSplit> : probe_kernel<kWgM, kSplit, kStages>;
  CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  dim3 grid(g.oh * g.m_tiles, g.n * (g.cout / kN));
  return median_ms(reps, [&] { kernel<<<grid, 128 * kWgM, smem>>>(g, r.x, r.wp, r.bias, r.out); });
}

template <int kWgM, bool kSS, int kStages>
std::string tag() {
  return std::string(kSS ? "SS" : "RS") + std::to_string(kStages) + " wg_m=" + std::to_string(kWgM);
}

template <int kWgM, bool kSplit, bool kSS = false, int kStages = 2>
void check(const char* label, const Run& r, int64_t samples) {
  report_error(label, tag<kWgM, kSS, kStages>().c_str(), kSplit, r, samples,
               [&] { launch<kWgM, kSplit, kSS, kStages>(r, 1); });
}

template <int kWgM, bool kSplit, bool kSS = false, int kStages = 2>
void time_it(const char* label, const Run& r) {
  launch<kWgM, kSplit, kSS, kStages>(r, 3);
  report_time(label, tag<kWgM, kSS, kStages>().c_str(), kSplit, r, launch<kWgM, kSplit, kSS, kStages>(r, 20), 0.0f);
}

// The bulk kernel's operands, packed (timed separately: the input pack is a pass over it).
template <int kWgM, bool kSplit, int kStages>
float launch_bulk(const Run& r, int reps, float* pack_ms = nullptr) {
  const Geo& g = r.g;
  const int parts = kSplit ? 2 : 1, chunks = g.cin / kChunkK, co_tiles = g.cout / kN;
  Packed pk;
  pk.wp = g.m_tiles * 64 * kWgM + g.a_rows;
  static float *xp = nullptr, *wt = nullptr;
  static size_t xp_size = 0;
  const size_t need = size_t(g.n) * g.h * chunks * parts * 4 * pk.wp * 4 * 4;
  if (need > xp_size) {
    if (xp) CHECK(cudaFree(xp));
    CHECK(cudaMalloc(&xp, need));
    xp_size = need;
  }
  // weights: [i][cb][co_tile][j][part][core-matrix tile: (n / 8) * 128 + kq * 32 + (n % 8) * 4 + k % 4 floats]
  std::vector<float> ht(size_t(g.kh) * chunks * co_tiles * g.kw * parts * kN * kChunkK);
  for (int i = 0; i < g.kh; ++i)
    for (int cb = 0; cb < chunks; ++cb)
      for (int ct = 0; ct < co_tiles; ++ct)
        for (int j = 0; j < g.kw; ++j)
          for (int p = 0; p < parts; ++p)
            for (int nn = 0; nn < kN; ++nn)
              for (int k = 0; k < kChunkK; ++k) {
                const size_t tile = ((((size_t(i) * chunks + cb) * co_tiles + ct) * g.kw + j) * parts + p);
                const size_t at = tile * kN * kChunkK + (nn / 8) * 128 + (k / 4) * 32 + (nn % 8) * 4 + k % 4;
                ht[at] = r.host_w[((((size_t(i) * g.kw + j) * 2 + p) * g.cout) + ct * kN + nn) * g.cin + cb * kChunkK + k];
              }
  if (wt) CHECK(cudaFree(wt));
  CHECK(cudaMalloc(&wt, ht.size() * 4));
  CHECK(cudaMemcpy(wt, ht.data(), ht.size() * 4, cudaMemcpyHostToDevice));
  const float packed_ms = median_ms(1, [&] { pack_input_kernel<<<2048, 256>>>(g, pk, parts, r.x, xp); });
  if (pack_ms) *pack_ms = packed_ms;
  const size_t smem = size_t(parts * 4 * g.a_rows * 4 + g.kw * parts * kN * kChunkK) * 4 * kStages;
  auto kernel = probe_bulk_kernel<kWgM, kSplit, kStages>;
  CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
  dim3 grid(g.oh * g.m_tiles, g.n * co_tiles);
  return median_ms(reps, [&] { kernel<<<grid, 128 * kWgM + 32, smem>>>(g, pk, xp, wt, r.bias, r.out); });
}

template <int kWgM, bool kSplit, int kStages>
void check_bulk(const char* label, const Run& r, int64_t samples) {
  const std::string t = "BULK" + std::to_string(kStages) + " wg_m=" + std::to_string(kWgM);
  report_error(label, t.c_str(), kSplit, r, samples, [&] { launch_bulk<kWgM, kSplit, kStages>(r, 1); });
}

template <int kWgM, bool kSplit, int kStages>
void time_bulk(const char* label, const Run& r) {
  float pack_ms = 0;
  launch_bulk<kWgM, kSplit, kStages>(r, 3);
  const float ms = launch_bulk<kWgM, kSplit, kStages>(r, 20, &pack_ms);
  const std::string t = "BULK" + std::to_string(kStages) + " wg_m=" + std::to_string(kWgM);
  report_time(label, t.c_str(), kSplit, r, ms, pack_ms);
}

int main(int argc, char** argv) {
  if (argc > 1 && std::string(argv[1]) == "unit") return unit_check();
  if (argc > 1) {  // one kb69 launch of RS4 wg_m=2 (for ncu): argv[1] = split | tf32
    Run k2 = make(64, 64, 128, 3, 5, 128, 256, 2, 7);
    if (argv[1][0] == 's') launch<2, true, false, 4>(k2, 1);
    else launch<2, false, false, 4>(k2, 1);
    CHECK(cudaDeviceSynchronize());
    return 0;
  }
  cudaDeviceProp prop;
  CHECK(cudaGetDeviceProperties(&prop, 0));
  printf("%s\n", prop.name);
  {  // small, every output checked
    Run a = make(2, 32, 128, 3, 3, 9, 150, 1, 11);
    check_bulk<1, true, 3>("small 3x3 all outputs", a, 1LL << 40);
    check_bulk<1, false, 3>("small 3x3 all outputs", a, 1LL << 40);
    Run b = make(2, 48, 64, 3, 5, 7, 200, 2, 12);
    check_bulk<2, true, 3>("small 3x5 all outputs", b, 1LL << 40);
  }
  Run k1 = make(64, 64, 128, 3, 5, 128, 256, 1, 7);  // kb69
  check_bulk<1, true, 4>("kb69 (1M samples)", k1, 1 << 20);
  time_bulk<1, true, 4>("kb69", k1);
  time_bulk<1, false, 4>("kb69", k1);
  Run k2 = make(64, 64, 128, 3, 5, 128, 256, 2, 7);
  check_bulk<2, true, 3>("kb69 (1M samples)", k2, 1 << 20);
  time_bulk<2, true, 2>("kb69", k2);
  time_bulk<2, true, 3>("kb69", k2);
  time_bulk<2, false, 3>("kb69", k2);
  time_it<2, true, false, 2>("kb69 (cp.async, as before)", k2);
  Run k57 = make(8, 64, 64, 3, 3, 1024, 1024, 2, 9);  // kb57
  check_bulk<2, true, 3>("kb57 (1M samples)", k57, 1 << 20);
  time_bulk<2, true, 3>("kb57", k57);
  time_bulk<2, false, 3>("kb57", k57);
  return 0;
}
