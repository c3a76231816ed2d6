// The wgmma implicit GEMM's kernels (implicit_wgmma.h), built for sm_90a alone
// (CMakeLists.txt): wgmma exists only there. Built empty (a toolkit before CUDA
// 12), the launchers report cudaErrorNotSupported and wgmma_kernels_built()
// keeps the host code off this path, as on any device but compute capability 9.0.
#include "implicit_wgmma.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "mma_tf32.cuh"
#include "ptx.cuh"
#include "wgmma.cuh"

namespace gemm_convt {
namespace {

// Threads of a block of consumer warpgroups (64 positions each) and one producer warp.
constexpr int threads_of(int consumers) { return consumers * 128 + 32; }
constexpr int kTileFloats = kWgmmaTileN * kWgmmaBlockK;  // one (tap, part) weight tile
constexpr uint32_t kTileBytes = kTileFloats * 4;
// Shared-memory buffers. Measured (H100, session 27): three ran no faster than two (a
// producer-staged form), and three with two partial sums in turn (a step's products
// beside the previous one's join) 15-30% slower than this.
constexpr int kStages = 2;

__host__ __device__ inline int a_floats(const WgmmaConv& c) { return c.parts * 4 * c.a_rows * 4; }
__host__ __device__ inline int b_floats(const WgmmaConv& c) { return c.taps_w * c.parts * kTileFloats; }

#if !defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL)
// One step's products into part: per width tap j the input window shifted by
// (kw - 1 - j) * dil_w columns (16 bytes each: the descriptor's start moves),
// two k8 steps, one or three products (split: lo x hi, hi x lo, hi x hi, the
// small terms first); the step's first product overwrites part. a and b are the
// step's base descriptors: each product's are those plus offsets (desc_offset),
// uniform across the warpgroup, not rebuilt from addresses per product (session
// 32: that rebuilding held ~35% of the consumers' stall samples).
//
// kKw > 0: the kernel's width, known at compile time, so the tap loop unrolls whole and a
// step's products issue as one run. With a runtime width ptxas unrolls the loop in pieces and
// starts each piece after the back edge with an injected warpgroup.arrive (C7519, 5 an
// instantiation), ends each with a scoreboarded product, and closes the step with an empty
// HGMMA before its wait (session 33, SASS). kKw = 0: any width (the fallback).
template <bool kSplit, int kKw>
__device__ __forceinline__ void step_products(float (&part)[32], const WgmmaConv& c, uint64_t a, uint64_t b) {
  const uint32_t lbo_a = uint32_t(c.a_rows) * 16;  // one channel quad's plane
  const int kw = kKw > 0 ? kKw : c.taps_w;
#pragma unroll
  for (int j = 0; j < (kKw > 0 ? kKw : c.taps_w); ++j) {
    const uint64_t a_tap = a + desc_offset(uint32_t((kw - 1 - j) * c.dil_w) * 16);
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      const uint64_t ah = a_tap + desc_offset(kk * 2 * lbo_a);  // k8 = two channel quads
      const uint64_t bh = b + desc_offset(uint32_t(j * c.parts) * kTileBytes + kk * 256);
      const int scale_d = j == 0 && kk == 0 ? 0 : 1;
      if (kSplit) {
        const uint64_t al = ah + desc_offset(4 * lbo_a), bl = bh + desc_offset(kTileBytes);
        wgmma_64x64x8(part, al, bh, scale_d);
        wgmma_64x64x8(part, ah, bl, 1);
        wgmma_64x64x8(part, ah, bh, 1);
      } else {
        wgmma_64x64x8(part, ah, bh, scale_d);
      }
    }
  }
}

// x's parts: TF32 alone (nearest, a NaN kept), or split as the implicit GEMM's
// unguarded split_tf32 (an infinite or NaN output then reruns guarded).
__device__ __forceinline__ float tf32_part(float x, int parts, int part) {
  if (parts == 1) return __uint_as_float(tf32_bits(x));
  uint32_t hi, cross, lo;
  split_tf32<false>(__float_as_uint(x), hi, cross, lo);
  return __uint_as_float(part == 0 ? hi : lo);
}

// Thread: one weight value of phase blockIdx.y, written as each of its parts (one read).
__global__ void pack_weight_kernel(const WgmmaConv c, const float* __restrict__ w, float* __restrict__ packed,
                                   int64_t values) {
  const WgmmaPhase& phase = c.phase[blockIdx.y];
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < values; e += int64_t(gridDim.x) * blockDim.x) {
    const int within = int(e % kTileFloats);  // (n / 8) * 128 + (k / 4) * 32 + (n % 8) * 4 + k % 4
    const int64_t tile = e / kTileFloats;     // (g, i, cb, ct, j); each part a packed tile of its own
    int64_t rest = tile;
    const int j = int(rest % c.taps_w);
    rest /= c.taps_w;
    const int ct = int(rest % c.co_tiles);
    rest /= c.co_tiles;
    const int cb = int(rest % c.blocks);
    rest /= c.blocks;
    const int i = int(rest % c.taps_h), g = int(rest / c.taps_h);
    const int ci = cb * kWgmmaBlockK + (within >> 5 & 3) * 4 + (within & 3);
    const int co = ct * kWgmmaTileN + (within >> 7) * 8 + (within >> 2 & 7);
    float v = 0.0f;
    if (ci < c.cin_g && co < c.cout_g)
      v = w[phase.weight_source + (int64_t(g) * c.cin_g + ci) * c.w_si + co * c.w_so + i * c.w_sh + j * c.w_sw];
    float* dst = packed + phase.weight_offset + tile * c.parts * kTileFloats + within;
    for (int part = 0; part < c.parts; ++part) dst[part * kTileFloats] = tf32_part(v, c.parts, part);
  }
}

// Thread: one packed column pc of a plane (sample, group, block, channel
// quad): packed row pc / wp at column pc % wp, its four channels read once and
// written as every part; rows and columns outside the input, and the plane's
// tail, are zeros.
__global__ void pack_input_kernel(const WgmmaConv c, const float* __restrict__ x, float* __restrict__ packed,
                                  int64_t lines) {
  const int pc = int(blockIdx.x) * blockDim.x + int(threadIdx.x);
  if (pc >= c.plane) return;
  const int q = pc / c.wp, row = c.q0 + q, col = pc - q * c.wp + c.pad_w - (c.kw - 1) * c.dil_w;
  const bool inside = q < c.q_rows && row >= 0 && row < c.in_h && col >= 0 && col < c.in_w;
  for (int64_t line = blockIdx.y; line < lines; line += gridDim.y) {
    const int quad = int(line & 3);
    int64_t rest = line >> 2;
    const int cb = int(rest % c.blocks);
    rest /= c.blocks;
    const int g = int(rest % c.groups), s = int(rest / c.groups);
    float v[4];
    const int ci0 = cb * kWgmmaBlockK + quad * 4;
    const float* src = x + int64_t(c.n0 + s) * c.x_sn + int64_t(row) * c.x_sh + int64_t(col) * c.x_sw +
                       (int64_t(g) * c.cin_g + ci0) * c.x_sc;
#pragma unroll
    for (int e = 0; e < 4; ++e) v[e] = inside && ci0 + e < c.cin_g ? src[e * c.x_sc] : 0.0f;
    const int64_t base = ((int64_t(s) * c.groups + g) * c.blocks + cb) * c.parts;
    for (int part = 0; part < c.parts; ++part)
      reinterpret_cast<float4*>(packed)[((base + part) * 4 + quad) * c.plane + pc] =
          make_float4(tf32_part(v[0], c.parts, part), tf32_part(v[1], c.parts, part),
                      tf32_part(v[2], c.parts, part), tf32_part(v[3], c.parts, part));
  }
}

// Block: kConsumers x 64 positions of a sample's band, numbered across its rows
// as packed rows of wp columns (a row's last wp - out_w are not stored: no
// tile is left mostly empty at a row's end) x kWgmmaTileN channels of one
// (sample, group, phase). The producer thread streams the steps (row tap i x
// 16-channel block) into kStages buffers; each consumer warpgroup takes 64
// positions (step_products). A step's products gather in a partial sum, then
// join acc with a float32 add: the tensor cores' accumulation does not round
// to nearest (implicit_gemm.cu).
template <bool kSplit, int kConsumers, int kKw>
__global__ void __launch_bounds__(threads_of(kConsumers), 1)
    implicit_wgmma_kernel(const WgmmaConv c, const float* __restrict__ xp, const float* __restrict__ wt,
                          const float* __restrict__ bias, float* __restrict__ out, int* __restrict__ redo) {
  extern __shared__ __align__(128) float smem[];
  __shared__ __align__(8) uint64_t bars[2 * kStages];  // full, then empty
  const int af = a_floats(c), stage_floats = af + b_floats(c);
  const int f0 = int(blockIdx.x) * kConsumers * 64;  // the tile's first position
  int plane = int(blockIdx.y);
  const int ct = plane % c.co_tiles;
  plane /= c.co_tiles;
  const int ph = plane % c.phases;
  plane /= c.phases;
  const int g = plane % c.groups, s = plane / c.groups;
  const WgmmaPhase phase = c.phase[ph];
  // Every row tap: the packed band holds zero rows where one misses the input.
  const int steps = c.taps_h * c.blocks;
  // wg from lane 0: the compiler then knows it warp-uniform and keeps the descriptors
  // built from it in uniform registers.
  const int tid = int(threadIdx.x), wg = __shfl_sync(0xffffffffu, tid >> 7, 0);
  const uint32_t smem_base = uint32_t(__cvta_generic_to_shared(smem));
  const MbarRing<kStages> ring(bars);
  if (tid == 0) ring.init(kConsumers * 4);  // each consumer warp releases
  __syncthreads();

  if (wg == kConsumers) {  // the producer warp: one thread issues the copies
    if (tid == kConsumers * 128) {
      const uint32_t a_bytes = uint32_t(c.a_rows) * 16, b_bytes = uint32_t(b_floats(c)) * 4;
      for (int k = 0; k < steps; ++k) {
        const int b = k % kStages;
        mbar_wait(ring.empty(b), ((k / kStages) & 1) ^ 1);  // a fresh barrier passes parity 1
        const int i = k / c.blocks, cb = k % c.blocks;
        mbar_expect_tx(ring.full(b), c.parts * 4 * a_bytes + b_bytes);
        const uint32_t dst = smem_base + uint32_t(b * stage_floats) * 4;
        // Position f reads packed row (its row) + (taps_h - 1 - i) dil_h, column (its column) + the
        // tap's shift, past its phase's start.
        const float* a_src = xp + ((((int64_t(s) * c.groups + g) * c.blocks + cb) * c.parts * 4) * c.plane +
                                   int64_t(c.taps_h - 1 - i) * c.dil_h * c.wp + phase.start + f0) * 4;
        for (int pq = 0; pq < c.parts * 4; ++pq)
          bulk_copy(dst + pq * a_bytes, a_src + int64_t(pq) * c.plane * 4, a_bytes, ring.full(b));
        const float* b_src =
            wt + phase.weight_offset + (((int64_t(g) * c.taps_h + i) * c.blocks + cb) * c.co_tiles + ct) * b_floats(c);
        bulk_copy(dst + uint32_t(af) * 4, b_src, b_bytes, ring.full(b));
      }
    }
    return;
  }

  float acc[32], part[32];
#pragma unroll
  for (int e = 0; e < 32; ++e) acc[e] = 0.0f, part[e] = 0.0f;
  for (int k = 0; k < steps; ++k) {
    const int b = k % kStages;
    mbar_wait(ring.full(b), (k / kStages) & 1);
    const uint32_t a_base = smem_base + uint32_t(b * stage_floats) * 4 + uint32_t(wg * 64) * 16;
    const uint32_t b_base = smem_base + uint32_t(b * stage_floats + af) * 4;
    wgmma_fence();
    step_products<kSplit, kKw>(part, c, smem_desc(a_base, uint32_t(c.a_rows) * 16, 128), smem_desc(b_base, 128, 512));
    wgmma_commit();
    wgmma_wait<0>();
    settle(part);
    if ((tid & 31) == 0 && k + kStages < steps) mbar_arrive(ring.empty(b));
#pragma unroll
    for (int e = 0; e < 32; ++e) acc[e] += part[e];
  }

  // acc[4 n8 + r]: position wg * 64 + warp * 16 + lane / 4 (+ 8 for r >= 2),
  // channel 8 n8 + 2 (lane % 4) + r % 2.
  const int lane = tid & 31, warp = (tid >> 5) & 3;
  // The thread's 16 channels' bias, loaded side by side before the stores
  // (inside the store's test each load waited alone: 32 in a row per thread).
  float channel_bias[16];
#pragma unroll
  for (int q = 0; q < 16; ++q) {
    const int co = ct * kWgmmaTileN + (q >> 1) * 8 + 2 * (lane & 3) + (q & 1);
    channel_bias[q] = bias && co < c.cout_g ? bias[g * c.cout_g + co] : 0.0f;
  }
  uint32_t magnitude = 0;
  float* out_plane = out + phase.out_offset + int64_t(c.n0 + s) * c.o_sn + int64_t(g) * c.cout_g * c.o_sc;
  int64_t position_offset[2];  // the thread's two positions, -1 where not stored
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int f = f0 + wg * 64 + warp * 16 + (lane >> 2) + 8 * h, r = f / c.wp, ow = f - r * c.wp;
    const bool stored = r < c.rows && c.row0 + r < phase.out_h && ow < phase.out_w;
    position_offset[h] = stored ? int64_t(c.row0 + r) * c.o_sh + int64_t(ow) * c.o_sw : -1;
  }
#pragma unroll
  for (int e = 0; e < 32; ++e) {
    const int64_t at = position_offset[e >> 1 & 1];
    const int co = ct * kWgmmaTileN + (e >> 2) * 8 + 2 * (lane & 3) + (e & 1);
    if (at >= 0 && co < c.cout_g) {
      out_plane[int64_t(co) * c.o_sc + at] = acc[e] + channel_bias[(e >> 2) * 2 + (e & 1)];
      magnitude = max(magnitude, __float_as_uint(acc[e]) & 0x7fffffffu);
    }
  }
  if (kSplit && magnitude >= 0x7f800000u) *redo = 1;
}
#else  // another device pass (the build has none): the same kernels, empty
__global__ void pack_weight_kernel(const WgmmaConv, const float* __restrict__, float* __restrict__, int64_t) {}
__global__ void pack_input_kernel(const WgmmaConv, const float* __restrict__, float* __restrict__, int64_t) {}
template <bool kSplit, int kConsumers, int kKw>
__global__ void __launch_bounds__(threads_of(kConsumers), 1)
    implicit_wgmma_kernel(const WgmmaConv, const float* __restrict__, const float* __restrict__,
                          const float* __restrict__, float* __restrict__, int* __restrict__) {}
#endif

using ConvKernel = void (*)(const WgmmaConv, const float*, const float*, const float*, float*, int*);

// The instantiation for a width: 1-7 compiled each (the suite's 2, 3, 5 and 7 among them),
// any other the runtime-width fallback; GEMM_CONVT_WGMMA_ANY_WIDTH=1 in the environment takes
// the fallback for every width (A/B runs in one build; read per call).
template <bool kSplit, int kConsumers>
ConvKernel conv_kernel_for(int kw) {
  const char* any_width = std::getenv("GEMM_CONVT_WGMMA_ANY_WIDTH");
  if (any_width && std::strcmp(any_width, "1") == 0) kw = 0;
  switch (kw) {
    case 1: return implicit_wgmma_kernel<kSplit, kConsumers, 1>;
    case 2: return implicit_wgmma_kernel<kSplit, kConsumers, 2>;
    case 3: return implicit_wgmma_kernel<kSplit, kConsumers, 3>;
    case 4: return implicit_wgmma_kernel<kSplit, kConsumers, 4>;
    case 5: return implicit_wgmma_kernel<kSplit, kConsumers, 5>;
    case 6: return implicit_wgmma_kernel<kSplit, kConsumers, 6>;
    case 7: return implicit_wgmma_kernel<kSplit, kConsumers, 7>;
    default: return implicit_wgmma_kernel<kSplit, kConsumers, 0>;
  }
}

}  // namespace

bool wgmma_kernels_built() {
#if defined(GEMM_CONVT_WGMMA_BUILT)
  return true;
#else
  return false;
#endif
}

size_t wgmma_smem_bytes(const WgmmaConv& c) { return size_t(a_floats(c) + b_floats(c)) * 4 * kStages; }
int64_t wgmma_packed_weight_floats(const WgmmaConv& c) {
  return int64_t(c.groups) * c.taps_h * c.blocks * c.co_tiles * b_floats(c);
}
int64_t wgmma_packed_input_floats(const WgmmaConv& c) {
  return int64_t(c.samples) * c.groups * c.blocks * c.parts * 4 * int64_t(c.plane) * 4;
}

cudaError_t launch_wgmma_pack_weight(const WgmmaConv& c, const float* weight, float* packed, cudaStream_t stream) {
  if (!wgmma_kernels_built()) return cudaErrorNotSupported;
  const int64_t values = wgmma_packed_weight_floats(c) / c.parts;  // a phase's
  const dim3 grid(unsigned(std::min<int64_t>((values + 255) / 256, 4096)), unsigned(c.phases));
  pack_weight_kernel<<<grid, 256, 0, stream>>>(c, weight, packed, values);
  return cudaGetLastError();
}

cudaError_t launch_wgmma_pack_input(const WgmmaConv& c, const float* input, float* packed, cudaStream_t stream) {
  if (!wgmma_kernels_built()) return cudaErrorNotSupported;
  const int64_t lines = int64_t(c.samples) * c.groups * c.blocks * 4;
  const dim3 grid(unsigned((c.plane + 127) / 128), unsigned(std::min<int64_t>(lines, 65535)));
  pack_input_kernel<<<grid, 128, 0, stream>>>(c, input, packed, lines);
  return cudaGetLastError();
}

cudaError_t launch_wgmma_conv(const WgmmaConv& c, const float* packed_input, const float* packed_weight,
                              const float* bias, float* out, int* redo, cudaStream_t stream) {
  if (!wgmma_kernels_built()) return cudaErrorNotSupported;
  const bool wide = c.tile_m == kWgmmaTileMLarge;
  const ConvKernel kernel = c.parts == 2 ? (wide ? conv_kernel_for<true, 4>(c.taps_w) : conv_kernel_for<true, 2>(c.taps_w))
                                        : (wide ? conv_kernel_for<false, 4>(c.taps_w) : conv_kernel_for<false, 2>(c.taps_w));
  const size_t smem = wgmma_smem_bytes(c);
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  // The whole carveout for shared memory: where two blocks fit an SM (implicit_wgmma.cpp), both run.
  if (e == cudaSuccess)
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared);
  if (e != cudaSuccess) return e;
  const dim3 grid(unsigned(c.m_tiles), unsigned(c.samples * c.groups * c.phases * c.co_tiles));
  kernel<<<grid, threads_of(c.tile_m / 64), smem, stream>>>(c, packed_input, packed_weight, bias, out, redo);
  return cudaGetLastError();
}

}  // namespace gemm_convt
