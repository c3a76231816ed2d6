#include "thin_gemm.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>
#include <c10/util/Exception.h>

#include <algorithm>

namespace gemm_convt {
namespace {

// 256 threads; each owns 4 consecutive rows (m) times kCols consecutive
// columns (n) of the block's tile, accumulated over K in steps of kStepK
// staged in shared memory (two buffers: the next step's values are loaded
// into registers while this one is multiplied).
constexpr int kThreads = 256, kRows = 4, kStepK = 32;

struct ThinGemm {
  const float* a;
  const float* b;
  float* c;
  int64_t m, n, k, k_per_slice, batch;
  int64_t a_sm, a_sk, a_bs, a_gs, b_sk, b_sn, b_bs, b_gs, c_sm, c_sn, c_bs, c_gs, slice_stride;
  float beta;
  bool b_k_contiguous;
};

template <int kCols>
struct ColsOf;
template <> struct ColsOf<4> { using type = float4; };
template <> struct ColsOf<2> { using type = float2; };
template <> struct ColsOf<1> { using type = float; };

template <int kCols>
__device__ __forceinline__ void read_cols(const float* p, float (&v)[kCols]) {
  const typename ColsOf<kCols>::type t = *reinterpret_cast<const typename ColsOf<kCols>::type*>(p);
  const float* f = reinterpret_cast<const float*>(&t);
#pragma unroll
  for (int j = 0; j < kCols; ++j) v[j] = f[j];
}

// kTileN columns per block (kTileN / kCols threads across, the rest down).
// kAContiguousM: A is contiguous along m (grad_input), else along k
// (grad_weight); consecutive threads load consecutive addresses either way.
template <int kTileN, int kCols, bool kAContiguousM>
__global__ void __launch_bounds__(kThreads, 2) thin_gemm_kernel(const ThinGemm d) {
  constexpr int kThreadCols = kTileN / kCols, kThreadRows = kThreads / kThreadCols;
  constexpr int kTileM = kThreadRows * kRows;
  // Rows padded by 4: float4 reads stay aligned, and stores along k (k-contiguous
  // operands) fall into different banks (unpadded B rows were 16-way conflicts).
  constexpr int kLdA = kTileM + 4, kLdB = kTileN + 4;
  constexpr int kAPerThread = kStepK * kTileM / kThreads;
  constexpr int kBPerThread = (kStepK * kTileN + kThreads - 1) / kThreads;
  __shared__ __align__(16) float a_s[2][kStepK][kLdA];
  __shared__ __align__(16) float b_s[2][kStepK][kLdB];

  const int tid = int(threadIdx.x), tx = tid % kThreadCols, ty = tid / kThreadCols;
  const int64_t m0 = int64_t(blockIdx.x) * kTileM;
  const int64_t slice = blockIdx.y, entry = blockIdx.z % d.batch, group = blockIdx.z / d.batch;
  const int64_t k_begin = slice * d.k_per_slice, k_end = min(d.k, k_begin + d.k_per_slice);
  const float* a = d.a + entry * d.a_bs + group * d.a_gs;
  const float* b = d.b + entry * d.b_bs + group * d.b_gs;

  float a_next[kAPerThread], b_next[kBPerThread];
  // Element e of a step's A tile: (row, k), consecutive e along A's contiguous axis.
  auto a_index = [](int e, int& row, int& kk) {
    if (kAContiguousM) row = e % kTileM, kk = e / kTileM;
    else kk = e % kStepK, row = e / kStepK;
  };
  auto b_index = [&](int e, int& col, int& kk) {
    if (d.b_k_contiguous) kk = e % kStepK, col = e / kStepK;
    else col = e % kTileN, kk = e / kTileN;
  };
  auto load = [&](int64_t k0) {
#pragma unroll
    for (int i = 0; i < kAPerThread; ++i) {
      int row, kk;
      a_index(tid + i * kThreads, row, kk);
      const int64_t gm = m0 + row, gk = k0 + kk;
      // A's offsets fit 32 bits (thin_gemm_cuda checks): fewer registers.
      const int32_t offset = kAContiguousM ? int32_t(gm) + int32_t(gk) * int32_t(d.a_sk)
                                           : int32_t(gm) * int32_t(d.a_sm) + int32_t(gk);
      a_next[i] = gm < d.m && gk < k_end ? __ldg(a + offset) : 0.f;
    }
#pragma unroll
    for (int i = 0; i < kBPerThread; ++i) {
      const int e = tid + i * kThreads;
      int col = 0, kk = 0;
      if (e < kStepK * kTileN) b_index(e, col, kk);
      const int64_t gk = k0 + kk;
      b_next[i] = e < kStepK * kTileN && col < d.n && gk < k_end
                      ? __ldg(b + gk * d.b_sk + col * d.b_sn) : 0.f;
    }
  };
  auto store = [&](int buf) {
#pragma unroll
    for (int i = 0; i < kAPerThread; ++i) {
      int row, kk;
      a_index(tid + i * kThreads, row, kk);
      a_s[buf][kk][row] = a_next[i];
    }
#pragma unroll
    for (int i = 0; i < kBPerThread; ++i) {
      const int e = tid + i * kThreads;
      if (e >= kStepK * kTileN) break;
      int col, kk;
      b_index(e, col, kk);
      b_s[buf][kk][col] = b_next[i];
    }
  };

  float acc[kRows][kCols];
#pragma unroll
  for (int i = 0; i < kRows; ++i)
#pragma unroll
    for (int j = 0; j < kCols; ++j) acc[i][j] = 0.f;
  int buf = 0;
  if (k_begin < k_end) {
    load(k_begin);
    store(0);
  }
  __syncthreads();
  for (int64_t k0 = k_begin; k0 < k_end; k0 += kStepK) {
    const bool more = k0 + kStepK < k_end;
    if (more) load(k0 + kStepK);
#pragma unroll
    for (int kk = 0; kk < kStepK; ++kk) {
      float av[kRows], bv[kCols];
      read_cols<kRows>(&a_s[buf][kk][ty * kRows], av);
      read_cols<kCols>(&b_s[buf][kk][tx * kCols], bv);
#pragma unroll
      for (int i = 0; i < kRows; ++i)
#pragma unroll
        for (int j = 0; j < kCols; ++j) acc[i][j] = fmaf(av[i], bv[j], acc[i][j]);
    }
    if (more) store(buf ^ 1);  // every thread is past the sync that ended buf ^ 1's last reads
    __syncthreads();
    buf ^= 1;
  }

  float* c = d.c + entry * d.c_bs + group * d.c_gs + slice * d.slice_stride;
#pragma unroll
  for (int i = 0; i < kRows; ++i) {
    const int64_t gm = m0 + ty * kRows + i;
#pragma unroll
    for (int j = 0; j < kCols; ++j) {
      const int64_t gn = int64_t(tx) * kCols + j;
      if (gm < d.m && gn < d.n) {
        float* p = c + gm * d.c_sm + gn * d.c_sn;
        *p = d.beta == 0.f ? acc[i][j] : fmaf(d.beta, *p, acc[i][j]);
      }
    }
  }
}

// Tile columns for n: the narrowest of 8, 16, 32, 64 that holds it.
int tile_n(int64_t n) { return n <= 8 ? 8 : n <= 16 ? 16 : n <= 32 ? 32 : 64; }
int tile_m(int tn) { return tn == 64 ? 64 : 128; }  // 256 threads x 4 rows / (tn / cols)

template <int kTileN, int kCols>
void launch(const ThinGemm& d, bool a_contiguous_m, dim3 grid) {
  auto stream = at::cuda::getCurrentCUDAStream();
  if (a_contiguous_m)
    thin_gemm_kernel<kTileN, kCols, true><<<grid, kThreads, 0, stream>>>(d);
  else
    thin_gemm_kernel<kTileN, kCols, false><<<grid, kThreads, 0, stream>>>(d);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

__global__ void sum_slices_kernel(const float* __restrict__ part, int64_t slices, int64_t count,
                                  float* __restrict__ dst) {
  const int64_t step = int64_t(blockDim.x) * gridDim.x;
  for (int64_t i = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; i < count; i += step) {
    float s = part[i];
    for (int64_t t = 1; t < slices; ++t) s += part[t * count + i];
    dst[i] = s;
  }
}

}  // namespace

void thin_gemm_cuda(int64_t m, int64_t n, int64_t k, const ThinMatrix& a, const ThinMatrix& b,
                    const ThinOutput& c, float beta, int64_t batch, int64_t groups,
                    int64_t slices, int64_t slice_stride) {
  TORCH_CHECK(n >= 1 && n <= kThinMaxN && m >= 1 && batch >= 1 && groups >= 1 && slices >= 1,
              "gemm_convt: thin_gemm_cuda called outside its range");
  TORCH_CHECK(a.s0 == 1 || a.s1 == 1, "gemm_convt: thin_gemm_cuda needs A contiguous along an axis");
  TORCH_CHECK((m - 1) * a.s0 + (std::max<int64_t>(k, 1) - 1) * a.s1 < (int64_t(1) << 31),
              "gemm_convt: thin_gemm_cuda needs A's offsets within 32 bits");
  TORCH_CHECK(batch * groups <= 65535 && slices <= 65535, "gemm_convt: thin_gemm_cuda grid too large");
  const int tn = tile_n(n), tm = tile_m(tn);
  // Whole K steps per slice, so that every slice's steps are full but the last.
  const int64_t k_per_slice = (((k + slices - 1) / slices) + kStepK - 1) / kStepK * kStepK;
  const ThinGemm d{a.ptr, b.ptr, c.ptr, m, n, k, std::max<int64_t>(k_per_slice, kStepK), batch,
                   a.s0, a.s1, a.batch_stride, a.group_stride,
                   b.s0, b.s1, b.batch_stride, b.group_stride,
                   c.s0, c.s1, c.batch_stride, c.group_stride, slice_stride, beta, b.s0 == 1};
  const dim3 grid(static_cast<unsigned>((m + tm - 1) / tm), static_cast<unsigned>(slices),
                  static_cast<unsigned>(batch * groups));
  const bool a_m = a.s0 == 1 && a.s1 != 1;
  switch (tn) {
    case 8: launch<8, 1>(d, a_m, grid); break;
    case 16: launch<16, 2>(d, a_m, grid); break;
    case 32: launch<32, 4>(d, a_m, grid); break;
    default: launch<64, 4>(d, a_m, grid); break;
  }
}

int64_t thin_gemm_slices(int64_t m, int64_t n, int64_t k, int64_t batch, int64_t max_slices) {
  // Blocks for four per SM: two are resident at a time (128 registers x 256
  // threads, 35-43 KB of shared memory), so that makes two short waves. Each
  // slice keeps at least 256 of K (8 steps).
  const int sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t tile_rows = tile_m(tile_n(n));
  const int64_t tiles = (m + tile_rows - 1) / tile_rows * batch;
  const int64_t want = (4 * int64_t(sms) + tiles - 1) / tiles;
  return std::max<int64_t>(1, std::min({want, max_slices, k / 256}));
}

void sum_slices_cuda(const float* part, int64_t slices, int64_t count, float* dst) {
  if (count == 0) return;
  const int threads = 256;
  const int64_t blocks = std::min<int64_t>((count + threads - 1) / threads, 4096);
  sum_slices_kernel<<<static_cast<unsigned>(blocks), threads, 0,
                      at::cuda::getCurrentCUDAStream()>>>(part, slices, count, dst);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
