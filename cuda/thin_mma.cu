// thin_gemm.cuh's product on tensor cores: float32 as three TF32 products of
// split parts (mma_tf32.cuh), for operands contiguous along k. Where the SIMT
// kernel is bound by its FMAs (N = 32-64), this one is bound by reading A.

#include "thin_gemm.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/util/Exception.h>

#include <algorithm>
#include <cstdint>

#include "mma_tf32.cuh"
#include "ptx.cuh"

namespace gemm_convt {
namespace {

// A block: 128 rows (4 warps of 32) x kTileN columns (warps of 32), K staged
// 32 at a time through kStages shared-memory buffers filled by cp.async, so
// that two steps' loads are in flight while the tensor cores work on a third.
// 32 values are 128 bytes of each of A's rows per step (16 gave 64-byte reads
// scattered over 128 rows: 0.7 TB/s on kb69). Rows of 36 floats (144 bytes):
// ldmatrix's eight rows land on distinct banks.
constexpr int kTileM = 128, kStepK = 32, kLd = kStepK + 4, kStages = 3;
constexpr int kQuads = kStepK / 4;  // 16-byte copies per tile row and step

template <int kTileN>
constexpr int smem_bytes() { return kStages * (kTileM + kTileN) * kLd * int(sizeof(float)); }

struct ThinMma {
  const float* a;
  const float* b;
  float* c;
  int64_t m, n, k, k_per_slice;
  int64_t a_sm, a_bs, b_sn, b_bs, c_sm, c_sn, c_bs, slice_stride;
  float beta;
};

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
template <int kTileN>
__global__ void __launch_bounds__(128 * (kTileN / 32)) thin_mma_kernel(const ThinMma d) {
  constexpr int kThreads = 128 * (kTileN / 32);
  constexpr int kStageFloats = (kTileM + kTileN) * kLd;
  extern __shared__ __align__(16) float smem[];
  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int warp_m = warp % 4, warp_n = warp / 4;
  const int tile_row = lane >> 3, tile_r = lane & 7;
  const int64_t m0 = int64_t(blockIdx.x) * kTileM;
  const int64_t slice = blockIdx.y, entry = blockIdx.z;
  const int64_t k_begin = slice * d.k_per_slice, k_end = min(d.k, k_begin + d.k_per_slice);
  const float* a = d.a + entry * d.a_bs + m0 * d.a_sm;
  const float* b = d.b + entry * d.b_bs;
  const int steps = k_begin < k_end ? int((k_end - k_begin + kStepK - 1) / kStepK) : 0;

  // A step's tile rows (A's rows, then B's columns), 32 k values each as eight
  // 16-byte copies; rows past m or n and quads past k_end are zero-filled
  // (k and the slice bounds are multiples of 4: quads are whole).
  const auto stage = [&](int step) {
    float* tile = smem + (step % kStages) * kStageFloats;
    const int64_t k0 = k_begin + int64_t(step) * kStepK;
    for (int e = int(threadIdx.x); e < (kTileM + kTileN) * kQuads; e += kThreads) {
      const int row = e / kQuads, quad = e % kQuads;
      const int64_t gk = k0 + quad * 4;
      const bool is_a = row < kTileM;
      const bool inside = gk < k_end && (is_a ? m0 + row < d.m : row - kTileM < d.n);
      const float* src = !inside ? d.a : is_a ? a + row * d.a_sm + gk : b + (row - kTileM) * d.b_sn + gk;
      copy_async_16(tile + row * kLd + quad * 4, src, inside);
    }
  };

  // Each step's three-product sums gather in part, then join acc with a
  // float32 add (the tensor cores' own accumulation drifts over long K).
  float acc[2][4][4], part[2][4][4];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int r = 0; r < 4; ++r) acc[i][j][r] = 0.0f, part[i][j][r] = 0.0f;

#pragma unroll
  for (int s = 0; s < kStages - 1; ++s) {
    if (s < steps) stage(s);
    copy_async_commit();
  }
  for (int step = 0; step < steps; ++step) {
    copy_async_wait<kStages - 2>();
    __syncthreads();  // this step's tile is in; the buffer refilled next is free
    if (step + kStages - 1 < steps) stage(step + kStages - 1);
    copy_async_commit();
    const float* tile = smem + (step % kStages) * kStageFloats;
    const float* tile_a = tile + warp_m * 32 * kLd;
    const float* tile_b = tile + (kTileM + warp_n * 32) * kLd;
#pragma unroll
    for (int kk = 0; kk < kStepK; kk += 8) {
      uint32_t fa[2][4], fb[2][4];
#pragma unroll
      for (int f = 0; f < 2; ++f)  // tiles: rows 0-7 / 8-15 at k, then at k + 4
        load_tiles(tile_a + (f * 16 + (tile_row & 1) * 8 + tile_r) * kLd + kk + (tile_row >> 1) * 4, fa[f]);
#pragma unroll
      for (int f = 0; f < 2; ++f)  // tiles: k, k + 4 of columns 0-7, then of 8-15
        load_tiles(tile_b + (f * 16 + (tile_row >> 1) * 8 + tile_r) * kLd + kk + (tile_row & 1) * 4, fb[f]);
      // Guarded splits always (infinities and NaNs come out as torch's): the
      // kernel waits on memory, not on these selects.
      uint32_t a_hi[2][4], a_x[2][4], a_lo[2][4];
#pragma unroll
      for (int f = 0; f < 2; ++f)
#pragma unroll
        for (int r = 0; r < 4; ++r) split_tf32<true>(fa[f][r], a_hi[f][r], a_x[f][r], a_lo[f][r]);
#pragma unroll
      for (int fn = 0; fn < 4; ++fn) {
        const int bf = fn >> 1, br = (fn & 1) * 2;
        uint32_t b_hi[2], b_x[2], b_lo[2];
        split_tf32<true>(fb[bf][br], b_hi[0], b_x[0], b_lo[0]);
        split_tf32<true>(fb[bf][br + 1], b_hi[1], b_x[1], b_lo[1]);
#pragma unroll
        for (int fm = 0; fm < 2; ++fm)
          mma_three_products(part[fm][fn], a_hi[fm], a_x[fm], a_lo[fm], b_hi, b_x, b_lo);
      }
    }
#pragma unroll
    for (int fm = 0; fm < 2; ++fm)
#pragma unroll
      for (int fn = 0; fn < 4; ++fn)
#pragma unroll
        for (int r = 0; r < 4; ++r) acc[fm][fn][r] += part[fm][fn][r], part[fm][fn][r] = 0.0f;
  }

  // Fragment element r of (fm, fn): row warp_m*32 + fm*16 + lane/4 (+8 for
  // r >= 2), column warp_n*32 + fn*8 + 2*(lane%4) + r%2.
  float* c = d.c + entry * d.c_bs + slice * d.slice_stride;
#pragma unroll
  for (int fm = 0; fm < 2; ++fm)
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int64_t row = m0 + warp_m * 32 + fm * 16 + (lane >> 2) + (r >> 1) * 8;
      if (row >= d.m) continue;
#pragma unroll
      for (int fn = 0; fn < 4; ++fn) {
        const int64_t col = warp_n * 32 + fn * 8 + 2 * (lane & 3) + (r & 1);
        if (col >= d.n) continue;
        float* p = c + row * d.c_sm + col * d.c_sn;
        *p = d.beta == 0.f ? acc[fm][fn][r] : fmaf(d.beta, *p, acc[fm][fn][r]);
      }
    }
}
#else
template <int kTileN>
__global__ void thin_mma_kernel(const ThinMma) {}
#endif

bool aligned16(const void* p) { return reinterpret_cast<uintptr_t>(p) % 16 == 0; }

template <int kTileN>
void launch(const ThinMma& d, dim3 grid) {
  // Above 48 KB of shared memory a kernel must opt in, once per device.
  static thread_local int opted_device = -1;
  const int device = at::cuda::current_device();
  if (opted_device != device) {
    C10_CUDA_CHECK(cudaFuncSetAttribute(thin_mma_kernel<kTileN>,
                                        cudaFuncAttributeMaxDynamicSharedMemorySize,
                                        smem_bytes<kTileN>()));
    opted_device = device;
  }
  thin_mma_kernel<kTileN><<<grid, 128 * (kTileN / 32), smem_bytes<kTileN>(),
                            at::cuda::getCurrentCUDAStream()>>>(d);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace

bool thin_mma_applies(int64_t n, int64_t k, const ThinMatrix& a, const ThinMatrix& b) {
  return n <= kThinMaxN && k % 4 == 0 && a.s1 == 1 && b.s0 == 1 && aligned16(a.ptr) &&
         aligned16(b.ptr) && a.s0 % 4 == 0 && a.batch_stride % 4 == 0 && b.s1 % 4 == 0 &&
         b.batch_stride % 4 == 0 && at::cuda::getCurrentDeviceProperties()->major >= 8;
}

void thin_mma_cuda(int64_t m, int64_t n, int64_t k, const ThinMatrix& a, const ThinMatrix& b,
                   float* c, int64_t c_s0, int64_t c_s1, int64_t c_batch_stride, float beta,
                   int64_t batch, int64_t slices, int64_t slice_stride) {
  TORCH_CHECK(m >= 1 && batch >= 1 && slices >= 1 && thin_mma_applies(n, k, a, b),
              "gemm_convt: thin_mma_cuda called outside its range");
  TORCH_CHECK(batch <= 65535 && slices <= 65535, "gemm_convt: thin_mma_cuda grid too large");
  const int64_t k_per_slice = std::max<int64_t>(
      ((k + slices - 1) / slices + kStepK - 1) / kStepK * kStepK, kStepK);
  const ThinMma d{a.ptr, b.ptr, c, m, n, k, k_per_slice, a.s0, a.batch_stride,
                  b.s1, b.batch_stride, c_s0, c_s1, c_batch_stride, slice_stride, beta};
  const dim3 grid(static_cast<unsigned>((m + kTileM - 1) / kTileM), static_cast<unsigned>(slices),
                  static_cast<unsigned>(batch));
  if (n <= 32)
    launch<32>(d, grid);
  else
    launch<64>(d, grid);
}

}  // namespace gemm_convt
