// The wgmma implicit GEMM's kernels (implicit_wgmma.h), built for sm_90a alone
// (CMakeLists.txt): wgmma exists only there. Elsewhere the launchers report
// cudaErrorNotSupported; the host code takes this path on compute capability
// 9.0 only.
#include "implicit_wgmma.h"

#include <algorithm>

#include "gemm_convt/implicit.h"
#include "ptx.cuh"

namespace gemm_convt {
namespace {

constexpr int kConsumers = kWgmmaTileM / 64;         // warpgroups, 64 positions each
constexpr int kThreads = kConsumers * 128 + 128;     // and one producer warpgroup
// A step's window items (column, channel quad) per producer thread, at most.
constexpr int kMaxItems = ((kImplicitMaxSpan + 8) * 4 + 127) / 128;
constexpr int kLoadDepth = 3;  // steps whose window loads the producer keeps in flight
constexpr int kTileFloats = kWgmmaTileN * kWgmmaBlockK;  // one (tap, part) weight tile
constexpr uint32_t kTileBytes = kTileFloats * 4;

__host__ __device__ inline int a_floats(const WgmmaConv& c) { return c.parts * 4 * c.a_rows * 4; }
__host__ __device__ inline int b_floats(const WgmmaConv& c) { return c.kw * c.parts * kTileFloats; }

#if !defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Shared-memory matrix descriptor, no swizzle: core matrices of 8 rows x 16
// bytes; lbo steps between them along K, sbo along M/N.
__device__ __forceinline__ uint64_t smem_desc(uint32_t address, uint32_t lbo, uint32_t sbo) {
  return uint64_t((address & 0x3FFFF) >> 4) | (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32);
}
__device__ __forceinline__ void wgmma_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wgmma_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int kPending>
__device__ __forceinline__ void wgmma_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(kPending) : "memory");
}

// d (64 positions x 64 channels over the warpgroup) += a (64 x 8) . b (8 x 64),
// TF32, both from shared memory; scale_d 0: d = a . b.
__device__ __forceinline__ void wgmma_64x64x8(float (&d)[32], uint64_t a, uint64_t b, int scale_d) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %34, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, "
      "%10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, "
      "%29, %30, %31}, %32, %33, p, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]),
        "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]),
        "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]),
        "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]),
        "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "l"(a), "l"(b), "r"(scale_d));
}
// The accumulators as the asynchronous products left them: no read moves above the wait.
__device__ __forceinline__ void settle(float (&d)[32]) {
#pragma unroll
  for (int e = 0; e < 32; ++e) asm volatile("" : "+f"(d[e])::"memory");
}

__device__ __forceinline__ void mbar_init(uint32_t bar, int count) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;\n" ::"r"(bar), "r"(count));
}
__device__ __forceinline__ void mbar_expect_tx(uint32_t bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;\n" ::"r"(bar), "r"(bytes) : "memory");
}
__device__ __forceinline__ void mbar_arrive(uint32_t bar) {
  asm volatile("mbarrier.arrive.shared::cta.b64 _, [%0];\n" ::"r"(bar) : "memory");
}
__device__ __forceinline__ void mbar_wait(uint32_t bar, uint32_t parity) {
  asm volatile(
      "{\n.reg .pred done;\nwait_%=:\n"
      "mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      "@!done bra wait_%=;\n}\n" ::"r"(bar),
      "r"(parity)
      : "memory");
}
__device__ __forceinline__ void bulk_copy(uint32_t dst, const float* src, uint32_t bytes, uint32_t bar) {
  asm volatile("cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];\n" ::"r"(dst),
               "l"(src), "r"(bytes), "r"(bar)
               : "memory");
}

// One step's products into part: per width tap j the input window shifted by
// (kw - 1 - j) * dil_w columns (16 bytes each: the descriptor's start moves),
// two k8 steps, one or three products (split: lo x hi, hi x lo, hi x hi, the
// small terms first); the step's first product overwrites part.
template <bool kSplit>
__device__ __forceinline__ void step_products(float (&part)[32], const WgmmaConv& c, uint32_t a_base,
                                              uint32_t b_base) {
  const uint32_t lbo_a = uint32_t(c.a_rows) * 16;  // one channel quad's plane
  for (int j = 0; j < c.kw; ++j) {
    const uint32_t a_tap = a_base + uint32_t((c.kw - 1 - j) * c.dil_w) * 16;
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      const uint32_t ah = a_tap + kk * 2 * lbo_a;  // k8 = two channel quads
      const uint32_t bh = b_base + uint32_t(j * c.parts) * kTileBytes + kk * 256;
      const int scale_d = j == 0 && kk == 0 ? 0 : 1;
      if (kSplit) {
        const uint32_t al = ah + 4 * lbo_a, bl = bh + kTileBytes;
        wgmma_64x64x8(part, smem_desc(al, lbo_a, 128), smem_desc(bh, 128, 512), scale_d);
        wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bl, 128, 512), 1);
        wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bh, 128, 512), 1);
      } else {
        wgmma_64x64x8(part, smem_desc(ah, lbo_a, 128), smem_desc(bh, 128, 512), scale_d);
      }
    }
  }
}

// x's parts: TF32 alone (nearest, a NaN kept), or split as the implicit GEMM's
// unguarded split_tf32 (an infinite or NaN output then reruns guarded).
__device__ __forceinline__ float tf32_part(float x, int parts, int part) {
  if (parts == 1) return __uint_as_float(tf32_bits(x));
  const float hi = __uint_as_float((__float_as_uint(x) + 0x1000u) & 0xffffe000u);
  return part == 0 ? hi : x - hi;
}

__global__ void pack_weight_kernel(const WgmmaConv c, const float* __restrict__ w, float* __restrict__ packed,
                                   int64_t total) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int within = int(e % kTileFloats);  // (n / 8) * 128 + (k / 4) * 32 + (n % 8) * 4 + k % 4
    int64_t tile = e / kTileFloats;
    const int part = int(tile % c.parts);
    tile /= c.parts;
    const int j = int(tile % c.kw);
    tile /= c.kw;
    const int ct = int(tile % c.co_tiles);
    tile /= c.co_tiles;
    const int cb = int(tile % c.blocks);
    tile /= c.blocks;
    const int i = int(tile % c.kh), g = int(tile / c.kh);
    const int ci = cb * kWgmmaBlockK + (within >> 5 & 3) * 4 + (within & 3);
    const int co = ct * kWgmmaTileN + (within >> 7) * 8 + (within >> 2 & 7);
    float v = 0.0f;
    if (ci < c.cin_g && co < c.cout_g)
      v = tf32_part(w[(int64_t(g) * c.cin_g + ci) * c.w_si + co * c.w_so + i * c.w_sh + j * c.w_sw], c.parts, part);
    packed[e] = v;
  }
}

// Block: kWgmmaTileM positions of one output row x kWgmmaTileN channels of one
// (sample, group), over the steps (landing row tap i x 16-channel block) in
// kStages buffers. The producer warpgroup loads each step's input window from
// the input itself (any strides), splits it and stores its parts as core
// matrices ([part][channel quad][window column][4 channels]); one of its
// threads brings the step's packed weight with a bulk copy. Each consumer
// warpgroup takes 64 positions (step_products). A step's products gather in a
// partial sum, then join acc with a float32 add: the tensor cores'
// accumulation does not round to nearest (implicit_gemm.cu).
template <bool kSplit, int kStages>
__global__ void __launch_bounds__(kThreads, 1)
    implicit_wgmma_kernel(const WgmmaConv c, const float* __restrict__ x, const float* __restrict__ wt,
                          const float* __restrict__ bias, float* __restrict__ out, int* __restrict__ redo) {
  extern __shared__ __align__(128) float smem[];
  __shared__ __align__(8) uint64_t bars[2 * kStages];  // full, then empty
  const int af = a_floats(c), stage_floats = af + b_floats(c);
  const int oh = int(blockIdx.x) / c.m_tiles, ow0 = (int(blockIdx.x) - oh * c.m_tiles) * kWgmmaTileM;
  int plane = int(blockIdx.y);
  const int ct = plane % c.co_tiles;
  plane /= c.co_tiles;
  const int g = plane % c.groups, s = plane / c.groups;
  // Landing row taps: 0 <= oh + pad_h - i * dil_h < in_h.
  const int top = oh + c.pad_h;
  const int i_lo = top >= c.in_h ? (top - c.in_h) / c.dil_h + 1 : 0;
  const int i_hi = min(c.kh - 1, top / c.dil_h);
  const int steps = max(0, i_hi - i_lo + 1) * c.blocks;
  const int tid = int(threadIdx.x), wg = tid >> 7;
  const uint32_t smem_base = uint32_t(__cvta_generic_to_shared(smem));
  const uint32_t bar_base = uint32_t(__cvta_generic_to_shared(bars));
  const auto full_bar = [&](int b) { return bar_base + 8 * b; };
  const auto empty_bar = [&](int b) { return bar_base + 8 * (kStages + b); };
  if (tid == 0) {
    for (int b = 0; b < kStages; ++b) {
      mbar_init(full_bar(b), 128 + 1);  // every producer thread, and the weight copy's expect_tx
      mbar_init(empty_bar(b), kConsumers * 4);  // each consumer warp releases
    }
    asm volatile("fence.mbarrier_init.release.cluster;\n" ::: "memory");
  }
  __syncthreads();

  if (wg == kConsumers) {  // the producer warpgroup
    const int pt = tid - kConsumers * 128;
    // Item u: window column r (consecutive threads, consecutive columns: coalesced
    // NCHW rows) and channel quad; input column ow0 + r + pad_w - (kw - 1) * dil_w.
    const int items = c.a_rows * 4, col0 = ow0 + c.pad_w - (c.kw - 1) * c.dil_w;
    const float* xs = x + int64_t(c.n0 + s) * c.x_sn + int64_t(g) * c.cin_g * c.x_sc;
    int64_t item_offset[kMaxItems];
    int item_quad[kMaxItems], item_dst[kMaxItems];
    bool item_in[kMaxItems];
#pragma unroll
    for (int u = 0; u < kMaxItems; ++u) {
      const int it = pt + u * 128, quad = it / c.a_rows, r = it - quad * c.a_rows, col = col0 + r;
      item_quad[u] = quad;
      item_in[u] = it < items && col >= 0 && col < c.in_w;
      item_offset[u] = int64_t(quad * 4) * c.x_sc + int64_t(col) * c.x_sw;
      item_dst[u] = it < items ? (quad * c.a_rows + r) * 4 : -1;  // floats into a part's planes
    }
    const uint32_t b_bytes = uint32_t(b_floats(c)) * 4;
    // Step k's window into registers (kLoadDepth steps ahead of its store: one
    // round trip to memory per step would bound the producer).
    const auto load_step = [&](int k, float(&v)[kMaxItems][4]) {
      const int i = i_lo + k / c.blocks, cb = k - (k / c.blocks) * c.blocks;
      const int64_t step_offset = int64_t(cb * kWgmmaBlockK) * c.x_sc + int64_t(top - i * c.dil_h) * c.x_sh;
#pragma unroll
      for (int u = 0; u < kMaxItems; ++u) {
        const int ci = cb * kWgmmaBlockK + item_quad[u] * 4;
#pragma unroll
        for (int e = 0; e < 4; ++e)
          v[u][e] = item_in[u] && ci + e < c.cin_g ? xs[step_offset + item_offset[u] + e * c.x_sc] : 0.0f;
      }
    };
    // ... then, once its buffer is free, split into the buffer with the weight's bulk copy.
    const auto store_step = [&](int k, const float(&v)[kMaxItems][4]) {
      const int b = k % kStages;
      mbar_wait(empty_bar(b), ((k / kStages) & 1) ^ 1);  // a fresh barrier passes parity 1
      if (pt == 0) {
        const int i = i_lo + k / c.blocks, cb = k - (k / c.blocks) * c.blocks;
        mbar_expect_tx(full_bar(b), b_bytes);
        const float* b_src = wt + (((int64_t(g) * c.kh + i) * c.blocks + cb) * c.co_tiles + ct) * b_floats(c);
        bulk_copy(smem_base + uint32_t(b * stage_floats + af) * 4, b_src, b_bytes, full_bar(b));
      }
      float* a = smem + b * stage_floats;
#pragma unroll
      for (int u = 0; u < kMaxItems; ++u) {
        if (item_dst[u] < 0) continue;
#pragma unroll
        for (int part = 0; part < (kSplit ? 2 : 1); ++part)
          *reinterpret_cast<float4*>(a + part * 4 * c.a_rows * 4 + item_dst[u]) =
              make_float4(tf32_part(v[u][0], kSplit ? 2 : 1, part), tf32_part(v[u][1], kSplit ? 2 : 1, part),
                          tf32_part(v[u][2], kSplit ? 2 : 1, part), tf32_part(v[u][3], kSplit ? 2 : 1, part));
      }
      if (!c.probe_no_fence)
        asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");  // the stores, for wgmma's reads
      mbar_arrive(full_bar(b));
    };
    float v[kLoadDepth][kMaxItems][4];
#pragma unroll
    for (int d = 0; d < kLoadDepth; ++d)
      if (d < steps) load_step(d, v[d]);
    for (int k0 = 0; k0 < steps; k0 += kLoadDepth) {
#pragma unroll
      for (int d = 0; d < kLoadDepth; ++d) {  // slot d holds step k0 + d
        if (k0 + d >= steps) break;
        store_step(k0 + d, v[d]);
        if (k0 + d + kLoadDepth < steps) load_step(k0 + d + kLoadDepth, v[d]);
      }
    }
    return;
  }

  float acc[32], part[32];
#pragma unroll
  for (int e = 0; e < 32; ++e) acc[e] = 0.0f, part[e] = 0.0f;
  for (int k = 0; k < steps; ++k) {
    const int b = k % kStages;
    mbar_wait(full_bar(b), (k / kStages) & 1);
    const uint32_t a_base = smem_base + uint32_t(b * stage_floats) * 4 + uint32_t(wg * 64) * 16;
    const uint32_t b_base = smem_base + uint32_t(b * stage_floats + af) * 4;
    wgmma_fence();
    step_products<kSplit>(part, c, a_base, b_base);
    wgmma_commit();
    wgmma_wait<0>();
    settle(part);
    if ((tid & 31) == 0 && k + kStages < steps) mbar_arrive(empty_bar(b));
#pragma unroll
    for (int e = 0; e < 32; ++e) acc[e] += part[e];
  }

  // acc[4 n8 + r]: position wg * 64 + warp * 16 + lane / 4 (+ 8 for r >= 2),
  // channel 8 n8 + 2 (lane % 4) + r % 2.
  const int lane = tid & 31, warp = (tid >> 5) & 3;
  uint32_t magnitude = 0;
  float* out_plane = out + int64_t(c.n0 + s) * c.o_sn + int64_t(g) * c.cout_g * c.o_sc + int64_t(oh) * c.o_sh;
#pragma unroll
  for (int e = 0; e < 32; ++e) {
    const int ow = ow0 + wg * 64 + warp * 16 + (lane >> 2) + (e >> 1 & 1) * 8;
    const int co = ct * kWgmmaTileN + (e >> 2) * 8 + 2 * (lane & 3) + (e & 1);
    if (ow < c.out_w && co < c.cout_g) {
      out_plane[int64_t(co) * c.o_sc + int64_t(ow) * c.o_sw] = acc[e] + (bias ? bias[g * c.cout_g + co] : 0.0f);
      magnitude = max(magnitude, __float_as_uint(acc[e]) & 0x7fffffffu);
    }
  }
  if (kSplit && magnitude >= 0x7f800000u) *redo = 1;
}
#else  // another device pass (the build has none): the same kernels, empty
__global__ void pack_weight_kernel(const WgmmaConv, const float* __restrict__, float* __restrict__, int64_t) {}
template <bool kSplit, int kStages>
__global__ void __launch_bounds__(kThreads, 1)
    implicit_wgmma_kernel(const WgmmaConv, const float* __restrict__, const float* __restrict__,
                          const float* __restrict__, float* __restrict__, int* __restrict__) {}
#endif

bool built_for_sm90a() {
#if defined(GEMM_CONVT_WGMMA_BUILT)
  return true;
#else
  return false;
#endif
}

}  // namespace

size_t wgmma_smem_bytes(const WgmmaConv& c) { return size_t(a_floats(c) + b_floats(c)) * 4 * c.stages; }
int64_t wgmma_packed_weight_floats(const WgmmaConv& c) {
  return int64_t(c.groups) * c.kh * c.blocks * c.co_tiles * b_floats(c);
}

cudaError_t launch_wgmma_pack_weight(const WgmmaConv& c, const float* weight, float* packed, cudaStream_t stream) {
  if (!built_for_sm90a()) return cudaErrorNotSupported;
  const int64_t total = wgmma_packed_weight_floats(c);
  pack_weight_kernel<<<unsigned(std::min<int64_t>((total + 255) / 256, 4096)), 256, 0, stream>>>(c, weight, packed,
                                                                                                  total);
  return cudaGetLastError();
}

cudaError_t launch_wgmma_conv(const WgmmaConv& c, const float* input, const float* packed_weight,
                              const float* bias, float* out, int* redo, cudaStream_t stream) {
  if (!built_for_sm90a()) return cudaErrorNotSupported;
  const auto kernel = c.parts == 2 ? (c.stages == 3 ? implicit_wgmma_kernel<true, 3> : implicit_wgmma_kernel<true, 2>)
                                   : (c.stages == 3 ? implicit_wgmma_kernel<false, 3> : implicit_wgmma_kernel<false, 2>);
  const size_t smem = wgmma_smem_bytes(c);
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  if (e != cudaSuccess) return e;
  const dim3 grid(unsigned(c.out_h * c.m_tiles), unsigned(c.samples * c.groups * c.co_tiles));
  kernel<<<grid, kThreads, smem, stream>>>(c, input, packed_weight, bias, out, redo);
  return cudaGetLastError();
}

}  // namespace gemm_convt
