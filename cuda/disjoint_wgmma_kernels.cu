// The disjoint-taps wgmma kernels (disjoint_wgmma.h), built for sm_90a alone
// beside the implicit GEMM's (CMakeLists.txt); built empty before CUDA 12.
#include "disjoint_wgmma.h"

#include <algorithm>

#include "implicit_wgmma.h"
#include "ptx.cuh"
#include "wgmma.cuh"

namespace gemm_convt {
namespace {

constexpr int kThreads = kDwTileM * 2;  // two warpgroups, 64 pixels each
// Floats between a tile's channel rows: the fragment loads' 32 lanes then hit
// 32 banks (rows 8 words apart mod 32), and each row starts on 16 bytes.
constexpr int kLdA = kDwTileM + 8;
constexpr int kATileFloats = kDwBlockK * kLdA;
constexpr int kBTileFloats = kDwTileN * kDwBlockK;  // one part
constexpr uint32_t kBTileBytes = kBTileFloats * 4;
constexpr int kParts = 3;  // the weight's TF32 high, cross and low parts
// Two blocks per SM (their 16 warps at up to 128 registers each fill the
// register file; 3 stages of 33 KB each fit twice): while one block waits on
// its copies or writes its output, the other's products run. A separate
// producer warp (9 warps a block) left one block per SM: 5 warps on one
// scheduler's registers would need more than its quarter.
constexpr int kStages = 3;

constexpr int kStageFloats = kATileFloats + kParts * kBTileFloats;

#if !defined(__CUDA_ARCH__) || defined(__CUDA_ARCH_FEAT_SM90_ALL)
// Element e of a core-matrix tile (128 columns x 16 channels, K-major, no
// swizzle): (n / 8) * 128 + (k / 4) * 32 + (n % 8) * 4 + k % 4.
__global__ void pack_weight_kernel(const DisjointWgmma d, const float* __restrict__ w, float* __restrict__ packed,
                                   int64_t total) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < total; e += int64_t(gridDim.x) * blockDim.x) {
    const int within = int(e % kBTileFloats);
    int64_t tile = e / kBTileFloats;
    const int part = int(tile % kParts);
    tile /= kParts;
    const int nt = int(tile % d.n_tiles);
    tile /= d.n_tiles;
    const int kb = int(tile % d.blocks), g = int(tile / d.blocks);
    const int ci = kb * kDwBlockK + (within >> 5 & 3) * 4 + (within & 3);
    const int col = nt * kDwTileN + (within >> 7) * 8 + (within >> 2 & 7);
    float v = 0.0f;
    if (ci < d.cin_g && col < d.cout_g * d.taps) {
      const int co = d.by_taps.div(col), tap = col - co * d.taps, i = d.by_kw.div(tap), j = tap - i * d.kw;
      const float x = w[(int64_t(g) * d.cin_g + ci) * d.w_si + co * d.w_so + i * d.w_sh + j * d.w_sw];
      const Tf32Parts t = tf32_parts(x);
      v = part == 0 ? t.hi : part == 1 ? t.cross : t.lo;
    }
    packed[e] = v;
  }
}

// Block: kDwTileM pixels of one plane (sample, group) x kDwTileN columns.
// Thread 0 streams each 16-channel block's input rows and weight tile into
// kStages buffers by bulk copies; each warpgroup loads its 64 pixels' A
// fragments from shared memory (split in registers) and issues wgmma with B
// from shared memory. The products accumulate in the tensor cores over the
// whole contraction (split: at most 512 channels, disjoint_taps_applies).
__global__ void __launch_bounds__(kThreads, 2)
    disjoint_wgmma_kernel(const DisjointWgmma d, const float* __restrict__ x, const float* __restrict__ wp,
                          const float* __restrict__ bias, float* __restrict__ out) {
  extern __shared__ __align__(128) float smem[];
  __shared__ __align__(8) uint64_t bars[2 * kStages];  // full, then empty
  int rest = int(blockIdx.x);
  const int nt = rest % d.n_tiles;
  rest /= d.n_tiles;
  const int mt = rest % d.m_tiles;
  rest /= d.m_tiles;
  const int g = rest % d.groups, n = rest / d.groups;
  const int m0 = mt * kDwTileM, valid = min(kDwTileM, d.pixels - m0);
  const int tid = int(threadIdx.x);
  const uint32_t smem_base = uint32_t(__cvta_generic_to_shared(smem));
  const MbarRing<kStages> ring(bars);
  if (tid == 0) ring.init(kThreads / 32);  // each warp releases
  // The block's columns, each found once here rather than per thread in the
  // epilogue (its divisions and 64-bit offsets were ~2/3 of its instructions):
  // the output offset of (channel, tap) from a pixel's cell origin, the tap's
  // row and column (for the bounds), the channel's bias.
  __shared__ int64_t col_offset[kDwTileN];
  __shared__ int col_tap[kDwTileN];  // i << 16 | j
  __shared__ float col_bias[kDwTileN];
  const int cols = d.cout_g * d.taps;
  if (tid < kDwTileN && nt * kDwTileN + tid < cols) {
    const int col = nt * kDwTileN + tid, co = d.by_taps.div(col), tap = col - co * d.taps;
    const int i = d.by_kw.div(tap), j = tap - i * d.kw;
    col_offset[tid] = co * d.o_sc + i * d.o_sh + j * d.o_sw;
    col_tap[tid] = i << 16 | j;
    col_bias[tid] = bias ? bias[g * d.cout_g + co] : 0.0f;
  }
  __syncthreads();

  // Thread 0 issues the copies: the first kStages steps at once, then step
  // k - 1 + kStages into step k - 1's buffer once every warp has released it.
  const float* x_plane = x + int64_t(n) * d.x_sn + int64_t(g) * d.cin_g * d.x_sc + m0;
  const auto issue = [&](int k) {
    const int b = k % kStages;
    const int rows = min(kDwBlockK, d.cin_g - k * kDwBlockK);
    const uint32_t row_bytes = uint32_t(valid) * 4, b_bytes = uint32_t(kParts) * kBTileBytes;
    mbar_expect_tx(ring.full(b), uint32_t(rows) * row_bytes + b_bytes);
    const uint32_t dst = smem_base + uint32_t(b * kStageFloats) * 4;
    for (int r = 0; r < rows; ++r)
      bulk_copy(dst + uint32_t(r * kLdA) * 4, x_plane + int64_t(k * kDwBlockK + r) * d.x_sc, row_bytes, ring.full(b));
    bulk_copy(dst + kATileFloats * 4, wp + ((int64_t(g) * d.blocks + k) * d.n_tiles + nt) * kParts * kBTileFloats,
              b_bytes, ring.full(b));
  };
  if (tid == 0)
    for (int k = 0; k < min(kStages, d.blocks); ++k) issue(k);

  // A fragment (mma.sync m16n8k8 layout): register q holds pixel row_a + 8 (q % 2),
  // channel lane % 4 + 4 (q / 2) of the k8 step.
  const int lane = tid & 31, warp = tid >> 5;
  const int row_a = warp * 16 + (lane >> 2);
  float acc[64];
#pragma unroll
  for (int e = 0; e < 64; ++e) acc[e] = 0.0f;
  for (int k = 0; k < d.blocks; ++k) {
    const int b = k % kStages;
    if (tid == 0 && k >= 1 && k - 1 + kStages < d.blocks) {
      mbar_wait(ring.empty((k - 1) % kStages), ((k - 1) / kStages) & 1);
      issue(k - 1 + kStages);
    }
    __syncwarp();
    mbar_wait(ring.full(b), (k / kStages) & 1);
    const int rows = min(kDwBlockK, d.cin_g - k * kDwBlockK);  // channels past it are zero
    const float* a_tile = smem + b * kStageFloats;
    const uint32_t b_base = smem_base + uint32_t(b * kStageFloats + kATileFloats) * 4;
    // One k8 half at a time, its products waited for before the next half's
    // fragments take the same registers (two blocks per SM keep the tensor
    // cores fed meanwhile).
#pragma unroll
    for (int kk = 0; kk < 2; ++kk) {
      uint32_t hi[4], cross[4], lo[4];
#pragma unroll
      for (int q = 0; q < 4; ++q) {
        const int ch = kk * 8 + (lane & 3) + (q >> 1) * 4;
        const float v = ch < rows ? a_tile[ch * kLdA + row_a + (q & 1) * 8] : 0.0f;
        const Tf32Parts t = tf32_parts(v);
        hi[q] = __float_as_uint(t.hi), cross[q] = __float_as_uint(t.cross), lo[q] = __float_as_uint(t.lo);
      }
      const uint32_t bk = b_base + kk * 256;  // k8: two core matrices along K
      wgmma_fence();
      // smallest terms first: lo x cross, cross x lo, hi x hi
      wgmma_64x128x8(acc, lo, smem_desc(bk + kBTileBytes, 128, 512), 1);
      wgmma_64x128x8(acc, cross, smem_desc(bk + 2 * kBTileBytes, 128, 512), 1);
      wgmma_64x128x8(acc, hi, smem_desc(bk, 128, 512), 1);
      wgmma_commit();
      wgmma_wait<0>();
      settle(acc);
    }
    if (lane == 0 && k + kStages < d.blocks) mbar_arrive(ring.empty(b));
  }

  // acc[4 n8 + 2 h + c]: pixel row_a + 8 h, column 8 n8 + 2 (lane % 4) + c; the
  // column is (output channel, tap), the tap (i, j) its offset in the pixel's cell.
  float* out_plane = out + int64_t(n) * d.o_sn + int64_t(g) * d.cout_g * d.o_sc;
  int oh0[2], ow0[2];
  int64_t cell_offset[2];
  bool live[2];
#pragma unroll
  for (int h = 0; h < 2; ++h) {
    const int row = row_a + 8 * h, p = m0 + row, ih = d.by_in_w.div(p);
    live[h] = row < valid;
    oh0[h] = ih * d.s_h - d.pad_h, ow0[h] = (p - ih * d.in_w) * d.s_w - d.pad_w;
    cell_offset[h] = int64_t(oh0[h]) * d.o_sh + int64_t(ow0[h]) * d.o_sw;
  }
#pragma unroll
  for (int n8 = 0; n8 < 16; ++n8) {
#pragma unroll
    for (int c = 0; c < 2; ++c) {
      if (d.pairs && c == 1) continue;  // stored with c == 0
      const int local = n8 * 8 + 2 * (lane & 3) + c;
      if (nt * kDwTileN + local >= cols) continue;
      const int64_t offset = col_offset[local];
      const int i = col_tap[local] >> 16, j = col_tap[local] & 0xffff;
      const float b = col_bias[local];
#pragma unroll
      for (int h = 0; h < 2; ++h) {
        const int oh = oh0[h] + i, ow = ow0[h] + j;
        if (!live[h] || oh < 0 || oh >= d.out_h) continue;
        float* o = out_plane + cell_offset[h] + offset;
        const float v0 = acc[4 * n8 + 2 * h + c] + b;
        if (!d.pairs) {
          if (ow >= 0 && ow < d.out_w) *o = v0;
        } else {  // width taps j, j + 1 (even j): ow even, 8-byte aligned (host)
          const float v1 = acc[4 * n8 + 2 * h + 1] + b;
          if (ow >= 0 && ow + 1 < d.out_w) {
            *reinterpret_cast<float2*>(o) = make_float2(v0, v1);
          } else {
            if (ow >= 0 && ow < d.out_w) o[0] = v0;
            if (ow + 1 >= 0 && ow + 1 < d.out_w) o[1] = v1;
          }
        }
      }
    }
  }
}
#else  // another device pass (the build has none): the same kernels, empty
__global__ void pack_weight_kernel(const DisjointWgmma, const float* __restrict__, float* __restrict__, int64_t) {}
__global__ void __launch_bounds__(kThreads, 2)
    disjoint_wgmma_kernel(const DisjointWgmma, const float* __restrict__, const float* __restrict__,
                          const float* __restrict__, float* __restrict__) {}
#endif

}  // namespace

size_t disjoint_wgmma_smem_bytes(const DisjointWgmma&) { return size_t(kStageFloats) * 4 * kStages; }
int64_t disjoint_wgmma_weight_floats(const DisjointWgmma& d) {
  return int64_t(d.groups) * d.blocks * d.n_tiles * kParts * kBTileFloats;
}

cudaError_t launch_disjoint_wgmma_pack_weight(const DisjointWgmma& d, const float* weight, float* packed,
                                              cudaStream_t stream) {
  if (!wgmma_kernels_built()) return cudaErrorNotSupported;
  const int64_t total = disjoint_wgmma_weight_floats(d);
  pack_weight_kernel<<<unsigned(std::min<int64_t>((total + 255) / 256, 4096)), 256, 0, stream>>>(d, weight, packed,
                                                                                                  total);
  return cudaGetLastError();
}

cudaError_t launch_disjoint_wgmma(const DisjointWgmma& d, const float* input, const float* packed_weight,
                                  const float* bias, float* out, cudaStream_t stream) {
  if (!wgmma_kernels_built()) return cudaErrorNotSupported;
  const auto kernel = disjoint_wgmma_kernel;
  const size_t smem = disjoint_wgmma_smem_bytes(d);
  cudaError_t e = cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem));
  // The largest shared-memory carveout, so two blocks fit an SM (the driver's
  // own choice gave 64 KB on the H100: one block).
  if (e == cudaSuccess)
    e = cudaFuncSetAttribute(kernel, cudaFuncAttributePreferredSharedMemoryCarveout, cudaSharedmemCarveoutMaxShared);
  if (e != cudaSuccess) return e;
  const int64_t blocks = int64_t(d.samples) * d.groups * d.m_tiles * d.n_tiles;
  kernel<<<unsigned(blocks), kThreads, smem, stream>>>(d, input, packed_weight, bias, out);
  return cudaGetLastError();
}

}  // namespace gemm_convt
