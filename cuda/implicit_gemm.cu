#include "implicit_gemm.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <limits>
#include <type_traits>

#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"

namespace gemm_convt {
namespace {

// A block takes kTileM output positions of one output row and one stride
// phase of the width (ow = phase + stride * m: the same taps land on all of
// them, tap t reading input columns base_t + m), times kTileN output channels.
// Per landing row tap and chunk of kChunkK input channels it stages the input
// row segment that every landing width tap reads (each tap's window is a shift
// of it) and those taps' weights, then runs mma.sync m16n8k8 TF32 over them.
constexpr int kTileM = 128;
constexpr int kChunkK = 16;
constexpr int kLd = kChunkK + 4;  // shared-memory row of 80 bytes: ldmatrix rows hit distinct banks
constexpr int kWarpsM = 4;        // warps along M, 32 positions each; kTileN / 32 along N
constexpr int kMaxSmemBytes = 200 * 1024;

struct ImplicitGemm {
  Axis<int32_t> h, w;
  Divider<int32_t> by_stride_h, by_stride_w;
  int cin_g, cout_g, groups, n_tiles, m_tiles, taps;
  int a_rows;  // rows of the staged input tile (max_span)
  int64_t x_sn, x_sc, x_sh, x_sw, o_sn, o_sc, o_sh, o_sw;
};

// Width taps landing on a phase, at most: hits are hit_step apart.
int max_width_hits(const Axis<int32_t>& w) { return (w.kernel + w.hit_step - 1) / w.hit_step; }

// Input columns a tile's taps read: kTileM plus the shifts between the taps,
// rounded up to the staging loop's 8.
int max_span(const Axis<int32_t>& w) {
  return (kTileM + (max_width_hits(w) - 1) * w.hit_q_step + 7) / 8 * 8;
}

size_t smem_bytes(const Axis<int32_t>& w, int tile_n) {
  return size_t(max_span(w) + max_width_hits(w) * tile_n) * kLd * sizeof(float);
}

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
__device__ __forceinline__ uint32_t to_tf32(float x) {
  uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return bits;
}

// Four 8x8 tiles of 32-bit values (8 rows of 16 bytes each): lane l gives the
// row address of tile l / 8, row l % 8, and receives from tile i the value at
// row l / 4, word l % 4 in r[i]: an m16n8k8 TF32 operand fragment.
__device__ __forceinline__ void load_tiles(const float* row, uint32_t (&r)[4]) {
  const uint32_t addr = uint32_t(__cvta_generic_to_shared(row));
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(addr));
}

__device__ __forceinline__ void mma_tf32(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// x = high + low, both TF32 (the low part rounded too: the dropped low x low
// product and the roundings stay near float32's own error).
__device__ __forceinline__ void split_tf32(uint32_t x, uint32_t& high, uint32_t& low) {
  high = to_tf32(__uint_as_float(x));
  low = to_tf32(__uint_as_float(x) - __uint_as_float(high));
}

// Staged values: float32 rounded to TF32 once here when one product is taken;
// kept whole for the split; float16/bfloat16 are exact in TF32.
template <bool kSplit, typename scalar_t>
__device__ __forceinline__ float staged(scalar_t v) {
  const float f = static_cast<float>(v);
  return (std::is_same<scalar_t, float>::value && !kSplit) ? __uint_as_float(to_tf32(f)) : f;
}

template <typename scalar_t, int kTileN, bool kSplit>
__global__ void __launch_bounds__(kWarpsM * kTileN)
    implicit_gemm_kernel(const ImplicitGemm d, const scalar_t* __restrict__ x,
                         const scalar_t* __restrict__ wt, const scalar_t* __restrict__ bias,
                         scalar_t* __restrict__ out) {
  constexpr int kThreads = kWarpsM * kTileN;
  extern __shared__ __align__(16) float smem[];
  const int row_blocks = d.w.stride * d.m_tiles;
  const int oh = int(blockIdx.x) / row_blocks;
  const int rest = int(blockIdx.x) - oh * row_blocks;
  const int phase = rest / d.m_tiles, m0 = (rest - phase * d.m_tiles) * kTileM;
  const int count = phase < d.w.out_size ? (d.w.out_size - phase + d.w.stride - 1) / d.w.stride : 0;
  if (m0 >= count) return;  // the phase is shorter than the widest one
  const int plane = int(blockIdx.y), n_tile = plane % d.n_tiles, ng = plane / d.n_tiles;
  const int n = ng / d.groups, g = ng - n * d.groups, co0 = n_tile * kTileN;

  const AxisHit<int32_t> hw = first_hit(d.w, phase, d.by_stride_w);
  const int w_hits = hw.k < d.w.kernel ? (d.w.kernel - 1 - hw.k) / d.w.hit_step + 1 : 0;
  const int span = kTileM + (w_hits > 0 ? w_hits - 1 : 0) * d.w.hit_q_step;
  const int span8 = (span + 7) / 8 * 8;
  const int col_lo = hw.q - (w_hits > 0 ? w_hits - 1 : 0) * d.w.hit_q_step + m0;
  float* tile_a = smem;                  // [input column][channel], kLd per column
  float* tile_b = smem + d.a_rows * kLd;  // [width tap][output channel][channel]

  const int lane = int(threadIdx.x) & 31, warp = int(threadIdx.x) >> 5;
  const int warp_m = warp % kWarpsM, warp_n = warp / kWarpsM;
  const int tile_row = lane >> 3, tile_r = lane & 7;
  float acc[2][4][4];
#pragma unroll
  for (int i = 0; i < 2; ++i)
#pragma unroll
    for (int j = 0; j < 4; ++j)
#pragma unroll
      for (int k = 0; k < 4; ++k) acc[i][j][k] = 0.0f;

  const scalar_t* xg = x + n * d.x_sn + int64_t(g) * d.cin_g * d.x_sc;
  const int64_t w_ci = int64_t(d.cout_g) * d.taps;
  const AxisHit<int32_t> hh = first_hit(d.h, oh, d.by_stride_h);
  for (int i = hh.k, q = hh.q; w_hits > 0 && i < d.h.kernel && q >= 0;
       i += d.h.hit_step, q -= d.h.hit_q_step) {
    if (q >= d.h.in_size) continue;
    for (int ci0 = 0; ci0 < d.cin_g; ci0 += kChunkK) {
      __syncthreads();  // the previous step's fragments are read
      // Input: 8 neighbouring columns x 4 channels per 32 lanes (32-byte
      // segments in NCHW; the column-major smem row keeps the stores
      // conflict-free).
      for (int e = int(threadIdx.x); e < span8 * kChunkK; e += kThreads) {
        const int c = (e >> 7) * 8 + (e & 7), k = ((e >> 5) & 3) * 4 + ((e >> 3) & 3);
        const int col = col_lo + c, ci = ci0 + k;
        float v = 0.0f;
        if (c < span && ci < d.cin_g && col >= 0 && col < d.w.in_size)
          v = staged<kSplit>(xg[ci * d.x_sc + q * d.x_sh + col * d.x_sw]);
        tile_a[c * kLd + k] = v;
      }
      for (int e = int(threadIdx.x); e < w_hits * kTileN * kChunkK; e += kThreads) {
        const int k = e % kChunkK, co = (e / kChunkK) % kTileN, t = e / (kChunkK * kTileN);
        const int ci = ci0 + k, j = hw.k + t * d.w.hit_step;
        float v = 0.0f;
        if (ci < d.cin_g && co0 + co < d.cout_g)
          v = staged<kSplit>(wt[(int64_t(g) * d.cin_g + ci) * w_ci + int64_t(co0 + co) * d.taps +
                                i * d.w.kernel + j]);
        tile_b[(t * kTileN + co) * kLd + k] = v;
      }
      __syncthreads();
      for (int t = 0; t < w_hits; ++t) {
        // Tap t reads input column base_t + m: row (w_hits - 1 - t) * hit_q_step + m of tile_a.
        const float* a_rows = tile_a + ((w_hits - 1 - t) * d.w.hit_q_step + warp_m * 32) * kLd;
        const float* b_rows = tile_b + (t * kTileN + warp_n * 32) * kLd;
#pragma unroll
        for (int kk = 0; kk < kChunkK; kk += 8) {
          uint32_t a[2][4], b[2][4];
#pragma unroll
          for (int f = 0; f < 2; ++f)  // tiles: rows 0-7 / 8-15 at k, then at k + 4
            load_tiles(a_rows + (f * 16 + (tile_row & 1) * 8 + tile_r) * kLd + kk + (tile_row >> 1) * 4,
                       a[f]);
#pragma unroll
          for (int f = 0; f < 2; ++f)  // tiles: k, k + 4 of channels 0-7, then of 8-15
            load_tiles(b_rows + (f * 16 + (tile_row >> 1) * 8 + tile_r) * kLd + kk + (tile_row & 1) * 4,
                       b[f]);
          if (kSplit) {
            uint32_t a_hi[2][4], a_lo[2][4], b_hi[2][4], b_lo[2][4];
#pragma unroll
            for (int f = 0; f < 2; ++f)
#pragma unroll
              for (int r = 0; r < 4; ++r) {
                split_tf32(a[f][r], a_hi[f][r], a_lo[f][r]);
                split_tf32(b[f][r], b_hi[f][r], b_lo[f][r]);
              }
#pragma unroll
            for (int fm = 0; fm < 2; ++fm)
#pragma unroll
              for (int fn = 0; fn < 4; ++fn) {
                const int bf = fn >> 1, br = (fn & 1) * 2;
                mma_tf32(acc[fm][fn], a_lo[fm], b_hi[bf][br], b_hi[bf][br + 1]);
                mma_tf32(acc[fm][fn], a_hi[fm], b_lo[bf][br], b_lo[bf][br + 1]);
                mma_tf32(acc[fm][fn], a_hi[fm], b_hi[bf][br], b_hi[bf][br + 1]);
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
    }
  }

  // Fragment element r of (fm, fn): position warp_m*32 + fm*16 + lane/4 (+8
  // for r >= 2), channel warp_n*32 + fn*8 + 2*(lane%4) + r%2.
  scalar_t* out_plane = out + n * d.o_sn + int64_t(g) * d.cout_g * d.o_sc + oh * d.o_sh;
#pragma unroll
  for (int fm = 0; fm < 2; ++fm)
#pragma unroll
    for (int r = 0; r < 4; ++r) {
      const int m = m0 + warp_m * 32 + fm * 16 + (lane >> 2) + (r >> 1) * 8;
      if (m >= count) continue;
      const int ow = phase + m * d.w.stride;
#pragma unroll
      for (int fn = 0; fn < 4; ++fn) {
        const int co = co0 + warp_n * 32 + fn * 8 + 2 * (lane & 3) + (r & 1);
        if (co >= d.cout_g) continue;
        const float b = bias ? static_cast<float>(bias[g * d.cout_g + co]) : 0.0f;
        out_plane[co * d.o_sc + ow * d.o_sw] = static_cast<scalar_t>(acc[fm][fn][r] + b);
      }
    }
}
#else
template <typename scalar_t, int kTileN, bool kSplit>
__global__ void implicit_gemm_kernel(const ImplicitGemm, const scalar_t*, const scalar_t*,
                                     const scalar_t*, scalar_t*) {}
#endif

int tile_n(const Problem& p) { return p.out_per_group <= 32 ? 32 : 64; }

ImplicitGemm describe(const Problem& p, const ConvTranspose2dOptions& o) {
  ImplicitGemm d;
  d.h = make_axis<int32_t>(p.in_h, p.out_h, p.kernel_h, o.stride[0], o.padding[0], o.dilation[0]);
  d.w = make_axis<int32_t>(p.in_w, p.out_w, p.kernel_w, o.stride[1], o.padding[1], o.dilation[1]);
  d.by_stride_h = Divider<int32_t>(int32_t(o.stride[0]));
  d.by_stride_w = Divider<int32_t>(int32_t(o.stride[1]));
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group), d.groups = int(p.groups);
  d.n_tiles = int((p.out_per_group + tile_n(p) - 1) / tile_n(p));
  const int64_t phase_len = (p.out_w + o.stride[1] - 1) / o.stride[1];  // the longest phase
  d.m_tiles = int((phase_len + kTileM - 1) / kTileM);
  d.taps = int(p.kernel_taps());
  d.a_rows = max_span(d.w);
  return d;
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
  const int64_t planes = p.batch * p.groups * d.n_tiles;
  const int64_t row_blocks = p.out_h * o.stride[1] * d.m_tiles;
  if (p.in_pixels() > int_max || p.out_h * p.out_w > int_max || planes > 65535 ||
      row_blocks > int_max || p.in_per_group * p.kernel_taps() * p.out_per_group > int_max ||
      smem_bytes(d.w, tile_n(p)) > size_t(std::min<int64_t>(kMaxSmemBytes, props->sharedMemPerBlockOptin)))
    return false;
  if (o.implicit_gemm > 0) return true;
  return false;  // the cost model comes with the measurements
}

void implicit_gemm_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out) {
  ImplicitGemm d = describe(p, o);
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2),
  d.x_sw = input.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  const int64_t planes = p.batch * p.groups * d.n_tiles;
  const int64_t row_blocks = p.out_h * o.stride[1] * d.m_tiles;
  if (planes == 0 || row_blocks == 0) return;
  const dim3 grid(static_cast<unsigned>(row_blocks), static_cast<unsigned>(planes));
  const int n_tile = tile_n(p);
  const size_t smem = smem_bytes(d.w, n_tile);
  const bool split = input.scalar_type() == at::kFloat && !o.allow_tf32;
  const auto stream = at::cuda::getCurrentCUDAStream();
  const auto launch = [&](auto zero) {
    using scalar_t = decltype(zero);
    using kernel_t = void (*)(const ImplicitGemm, const scalar_t*, const scalar_t*,
                              const scalar_t*, scalar_t*);
    kernel_t kernel = n_tile == 32 ? (split ? implicit_gemm_kernel<scalar_t, 32, true>
                                            : implicit_gemm_kernel<scalar_t, 32, false>)
                                   : (split ? implicit_gemm_kernel<scalar_t, 64, true>
                                            : implicit_gemm_kernel<scalar_t, 64, false>);
    if (smem > 48 * 1024)
      C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize,
                                          int(smem)));
    kernel<<<grid, kWarpsM * n_tile, smem, stream>>>(
        d, input.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
        bias.defined() ? bias.data_ptr<scalar_t>() : nullptr, out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  };
  switch (input.scalar_type()) {  // implicit_gemm_applies admits these three
    case at::kFloat: return launch(float(0));
    case at::kHalf: return launch(c10::Half(0));
    case at::kBFloat16: return launch(c10::BFloat16(0));
    default: TORCH_INTERNAL_ASSERT(false, "implicit_gemm: unsupported dtype ", input.scalar_type());
  }
}

}  // namespace gemm_convt
