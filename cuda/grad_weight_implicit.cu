#include "grad_weight_implicit.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdlib>
#include <limits>
#include <type_traits>

#include "../csrc/conv_transpose2d_backward.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/grad_weight.h"
#include "mma_tf32.cuh"

namespace gemm_convt {
namespace {

// A block's tile: 64 or 32 input channels x 64 or 32 output channels (32 where a
// group has no more: 32-channel layers used a quarter of 64 x 64 tiles).
constexpr int kMaxTile = 64;
constexpr int kStageK = 32;      // positions per stage
constexpr int kLd = kStageK + 4;  // 36-word shared rows: a fragment's 32 reads hit 32 banks
constexpr int kThreads = 128;    // 2 x 2 warps, 32 x 32 each
constexpr int kMinSliceK = 1024;  // positions per slice at least (partial sums cost writes)

struct GradWeightImplicit {
  Axis<int32_t> h, w;
  Divider<int32_t> by_pixels, by_width;
  int cin_g, cout_g, tile_m, tile_n, ci_tiles, co_tiles, kernel_w, taps;
  int positions, slice_len, slices;
  int64_t x_sn, x_sc, x_sh, x_sw, g_sn, g_sc, g_sh, g_sw;
  int64_t weight_numel;
};

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
// Block (group and channel tiles, tap, slice): each thread stages one position
// column of 16 input-channel and 16 grad_output-channel rows per stage, held
// in registers while the tensor cores work on the stage before. kSplit and
// kGuard as in the implicit GEMM (mma_tf32.cuh): a second, guarded launch redoes
// every block where the first one's partial sums held an infinity or NaN.
template <typename scalar_t, int kTileM, int kTileN, bool kSplit, bool kGuard>
__global__ void __launch_bounds__(kThreads)
    grad_weight_kernel(const GradWeightImplicit d, const scalar_t* __restrict__ x,
                       const scalar_t* __restrict__ gy, float* __restrict__ partials,
                       int* __restrict__ redo) {
  if (kGuard && *redo == 0) return;
  constexpr int kHeldA = kTileM * kStageK / kThreads, kHeldB = kTileN * kStageK / kThreads;
  constexpr int kFragsM = kTileM / 32, kFragsN = kTileN / 16;  // per warp: (kTileM/2) x (kTileN/2)
  __shared__ float tile_a[2][kTileM][kLd], tile_b[2][kTileN][kLd];
  const int tiles_per_group = d.ci_tiles * d.co_tiles;
  const int g = blockIdx.x / tiles_per_group, tile = blockIdx.x - g * tiles_per_group;
  const int ci0 = tile / d.co_tiles * kTileM, co0 = tile % d.co_tiles * kTileN;
  const int tap = blockIdx.y, i = tap / d.kernel_w, j = tap - i * d.kernel_w;
  const int p_begin = blockIdx.z * d.slice_len;
  const int p_end = min(d.positions, p_begin + d.slice_len);
  const int lane = threadIdx.x & 31, warp = threadIdx.x >> 5;
  const scalar_t* x_tile = x + int64_t(g * d.cin_g + ci0) * d.x_sc;
  const scalar_t* gy_tile = gy + int64_t(g * d.cout_g + co0) * d.g_sc;
  const int a_rows = min(kTileM, d.cin_g - ci0), b_rows = min(kTileN, d.cout_g - co0);

  // Staging: this thread's position is column `lane` of the stage, its rows warp + 4m. Loads
  // are unconditional (a value outside the tile reads the tile's first one and is dropped at
  // the store) and held raw: a branch or a conversion right after each load made every
  // load wait for the one before (TF32 and bfloat16 ran 3-4x slower than three products).
  scalar_t held_a[kHeldA], held_b[kHeldB];
  bool a_inside = false, b_inside = false;
  const auto load = [&](int p0) {
    const int p = p0 + lane;
    const bool inside = p < p_end;
    const Position<int32_t> at = split_position<int32_t>(inside ? p : p_begin, d.by_pixels, d.by_width);
    const int64_t x_at = at.n * d.x_sn + at.h * d.x_sh + at.w * d.x_sw;
    const int64_t gy_at =
        inside ? grad_weight_source<int32_t, int64_t>(d.h, d.w, at, i, j, d.g_sn, d.g_sh, d.g_sw)
               : int64_t(-1);
    a_inside = inside, b_inside = gy_at >= 0;
    const scalar_t* xa = x_tile + (a_inside ? x_at + warp * d.x_sc : 0);
    const scalar_t* gb = gy_tile + (b_inside ? gy_at + warp * d.g_sc : 0);
    const int64_t xa_step = a_inside ? 4 * d.x_sc : 0, gb_step = b_inside ? 4 * d.g_sc : 0;
    // Rows past the group's channels read row 0's (every tile has one).
#pragma unroll
    for (int m = 0; m < kHeldA; ++m) held_a[m] = *(warp + 4 * m < a_rows ? xa + m * xa_step : x_tile);
#pragma unroll
    for (int m = 0; m < kHeldB; ++m) held_b[m] = *(warp + 4 * m < b_rows ? gb + m * gb_step : gy_tile);
  };
  const auto store = [&](int buf) {
#pragma unroll
    for (int m = 0; m < kHeldA; ++m) {
      const int r = warp + 4 * m;
      tile_a[buf][r][lane] = a_inside && r < a_rows ? staged<kSplit>(held_a[m]) : 0.0f;
    }
#pragma unroll
    for (int m = 0; m < kHeldB; ++m) {
      const int r = warp + 4 * m;
      tile_b[buf][r][lane] = b_inside && r < b_rows ? staged<kSplit>(held_b[m]) : 0.0f;
    }
  };

  // Warp (warp_m, warp_n) owns input channels warp_m*kTileM/2.. and output channels warp_n*kTileN/2..
  const int warp_m = warp & 1, warp_n = warp >> 1, group = lane >> 2, quad = lane & 3;
  float acc[kFragsM][kFragsN][4] = {};
  const auto contract = [&](int buf) {
#pragma unroll
    for (int k8 = 0; k8 < kStageK; k8 += 8) {
      uint32_t a[kFragsM][4], b[kFragsN][2];
#pragma unroll
      for (int f = 0; f < kFragsM; ++f) {
        const int r = warp_m * (kTileM / 2) + f * 16 + group;
        a[f][0] = __float_as_uint(tile_a[buf][r][k8 + quad]);
        a[f][1] = __float_as_uint(tile_a[buf][r + 8][k8 + quad]);
        a[f][2] = __float_as_uint(tile_a[buf][r][k8 + quad + 4]);
        a[f][3] = __float_as_uint(tile_a[buf][r + 8][k8 + quad + 4]);
      }
#pragma unroll
      for (int f = 0; f < kFragsN; ++f) {
        const int n = warp_n * (kTileN / 2) + f * 8 + group;
        b[f][0] = __float_as_uint(tile_b[buf][n][k8 + quad]);
        b[f][1] = __float_as_uint(tile_b[buf][n][k8 + quad + 4]);
      }
      if (kSplit) {
        uint32_t a_hi[kFragsM][4], a_x[kFragsM][4], a_lo[kFragsM][4];
        uint32_t b_hi[kFragsN][2], b_x[kFragsN][2], b_lo[kFragsN][2];
#pragma unroll
        for (int f = 0; f < kFragsM; ++f)
#pragma unroll
          for (int r = 0; r < 4; ++r) split_tf32<kGuard>(a[f][r], a_hi[f][r], a_x[f][r], a_lo[f][r]);
#pragma unroll
        for (int f = 0; f < kFragsN; ++f)
#pragma unroll
          for (int r = 0; r < 2; ++r) split_tf32<kGuard>(b[f][r], b_hi[f][r], b_x[f][r], b_lo[f][r]);
#pragma unroll
        for (int fm = 0; fm < kFragsM; ++fm)
#pragma unroll
          for (int fn = 0; fn < kFragsN; ++fn)
            mma_three_products(acc[fm][fn], a_hi[fm], a_x[fm], a_lo[fm], b_hi[fn], b_x[fn], b_lo[fn]);
      } else {
#pragma unroll
        for (int fm = 0; fm < kFragsM; ++fm)
#pragma unroll
          for (int fn = 0; fn < kFragsN; ++fn) mma_tf32(acc[fm][fn], a[fm], b[fn][0], b[fn][1]);
      }
    }
  };

  // Each stage's products are added into `total` with IEEE float adds: the tensor
  // cores' accumulation rounds toward zero, which over a slice of ~10^5 positions
  // cost float32 grad_weight 3e-4 of relative error (1e-6 with a stage per add).
  float total[kFragsM][kFragsN][4] = {};
  // f(fm, fn, r) for each accumulator value this thread holds.
  const auto for_each_accumulator = [](auto&& f) {
#pragma unroll
    for (int fm = 0; fm < kFragsM; ++fm)
#pragma unroll
      for (int fn = 0; fn < kFragsN; ++fn)
#pragma unroll
        for (int r = 0; r < 4; ++r) f(fm, fn, r);
  };
  const auto flush = [&] {
    for_each_accumulator([&](int fm, int fn, int r) {
      total[fm][fn][r] += acc[fm][fn][r];
      acc[fm][fn][r] = 0.0f;
    });
  };

  // Double buffer, one barrier per stage: a buffer is refilled only after the
  // barrier that follows its last reads.
  int buf = 0;
  load(p_begin);
  store(0);
  __syncthreads();
  for (int p0 = p_begin; p0 < p_end; p0 += kStageK) {
    const bool more = p0 + kStageK < p_end;
    if (more) load(p0 + kStageK);
    contract(buf);
    flush();
    if (more) store(buf ^ 1);
    __syncthreads();
    buf ^= 1;
  }

  float* out = partials + int64_t(blockIdx.z) * d.weight_numel;
  uint32_t magnitude = 0;
  for_each_accumulator([&](int fm, int fn, int r) {
    const int ci = ci0 + warp_m * (kTileM / 2) + fm * 16 + group + (r >= 2 ? 8 : 0);
    const int co = co0 + warp_n * (kTileN / 2) + fn * 8 + 2 * quad + (r & 1);
    if (ci >= d.cin_g || co >= d.cout_g) return;
    out[(int64_t(g * d.cin_g + ci) * d.cout_g + co) * d.taps + tap] = total[fm][fn][r];
    if (kSplit && !kGuard) magnitude = max(magnitude, __float_as_uint(total[fm][fn][r]) & 0x7fffffffu);
  });
  if (kSplit && !kGuard && magnitude >= 0x7f800000u) *redo = 1;
}

// grad_weight = the slices' partial sums added in slice order.
template <typename scalar_t>
__global__ void sum_slices_kernel(const float* __restrict__ partials, int slices, int64_t count,
                                  scalar_t* __restrict__ grad_weight) {
  for (int64_t e = blockIdx.x * int64_t(blockDim.x) + threadIdx.x; e < count;
       e += int64_t(gridDim.x) * blockDim.x) {
    float sum = partials[e];
    for (int s = 1; s < slices; ++s) sum += partials[s * count + e];
    grad_weight[e] = static_cast<scalar_t>(sum);
  }
}
#else
template <typename scalar_t, int kTileM, int kTileN, bool kSplit, bool kGuard>
__global__ void grad_weight_kernel(const GradWeightImplicit, const scalar_t*, const scalar_t*, float*,
                                   int*) {}
template <typename scalar_t>
__global__ void sum_slices_kernel(const float*, int, int64_t, scalar_t*) {}
#endif

// Channel tiles of a group: 32 wide where the group has no more channels, else 64.
struct ChannelTiles {
  int64_t tile_m, tile_n, ci_tiles, co_tiles;
};
ChannelTiles channel_tiles(const Problem& p) {
  const auto tile_for = [](int64_t channels) -> int64_t { return channels <= 32 ? 32 : kMaxTile; };
  ChannelTiles t;
  t.tile_m = tile_for(p.in_per_group), t.tile_n = tile_for(p.out_per_group);
  t.ci_tiles = (p.in_per_group + t.tile_m - 1) / t.tile_m;
  t.co_tiles = (p.out_per_group + t.tile_n - 1) / t.tile_n;
  return t;
}

// Slices: enough blocks for several waves, each slice at least kMinSliceK
// positions, their partial sums within the backward's workspace cap.
GradWeightImplicit describe(const Problem& p, const ConvTranspose2dOptions& o) {
  GradWeightImplicit d;
  d.h = height_axis<int32_t>(p, o);
  d.w = width_axis<int32_t>(p, o);
  d.by_pixels = Divider<int32_t>(int32_t(p.in_pixels()));
  d.by_width = Divider<int32_t>(int32_t(p.in_w));
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group);
  const ChannelTiles t = channel_tiles(p);
  d.tile_m = int(t.tile_m), d.tile_n = int(t.tile_n);
  d.ci_tiles = int(t.ci_tiles), d.co_tiles = int(t.co_tiles);
  d.kernel_w = int(p.kernel_w), d.taps = int(p.kernel_taps());
  d.positions = int(p.batch * p.in_pixels());
  d.weight_numel = p.in_channels * p.out_per_group * p.kernel_taps();
  const int64_t blocks = int64_t(p.groups) * d.ci_tiles * d.co_tiles * d.taps;
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t by_memory = backward_workspace_bytes(o) / (d.weight_numel * int64_t(sizeof(float)));
  int64_t slices = std::min<int64_t>({(8 * sms + blocks - 1) / blocks,
                                      std::max<int64_t>(1, d.positions / kMinSliceK), by_memory, 65535});
  slices = std::max<int64_t>(1, slices);
  const int64_t len = (d.positions + slices - 1) / slices;
  d.slice_len = int((len + kStageK - 1) / kStageK * kStageK);
  d.slices = int((d.positions + d.slice_len - 1) / d.slice_len);
  return d;
}

}  // namespace

bool grad_weight_implicit_applies(const Problem& p, const ConvTranspose2dOptions& o,
                                  at::ScalarType dtype) {
  static const int mode = [] {
    const char* v = std::getenv("GEMM_CONVT_GW_IMPLICIT");
    return v ? std::atoi(v) : -1;
  }();
  if (o.implicit_gemm == 0 || mode == 0 || dtype == at::kDouble) return false;
  if (at::cuda::getCurrentDeviceProperties()->major < 8) return false;
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  const int64_t weight_bytes = p.in_channels * p.out_per_group * p.kernel_taps() * int64_t(sizeof(float));
  const ChannelTiles t = channel_tiles(p);
  const int64_t tiles = p.groups * t.ci_tiles * t.co_tiles;
  // 32-bit positions and in-plane indices; one slice's partial sums within the cap.
  if (p.batch * p.in_pixels() > int_max - kStageK || p.out_h * p.out_w > int_max ||
      p.kernel_taps() > 65535 || tiles > int_max || weight_bytes > backward_workspace_bytes(o))
    return false;
  if (o.implicit_gemm > 0 || mode == 1) return true;
  // The rule, from H100 measurements (NOTES.md, session 11): the kernel runs ~19.5e12 (three
  // products) and ~23e12 (TF32) multiply-adds per second of its whole 64 x 64 tiles. The
  // columns route (im2col + cuBLAS) reaches 4.5-9.6e12 where its GEMM is thin (17-128 input
  // channels per group) but ~18e12 (IEEE) and 46-59e12 (TF32) where it is not (dcgan,
  // fcn_up), and float16/bfloat16 run on cuBLAS's half tensor cores. So: float32 with
  // 17-128 input channels per group, where the tiles' products are mostly used.
  if (dtype != at::kFloat || p.in_per_group <= 16 || p.in_per_group > 128) return false;
  const double used = double(p.in_per_group * p.out_per_group) /
                      double(t.ci_tiles * t.tile_m * t.co_tiles * t.tile_n);
  return used >= (o.allow_tf32 ? 0.75 : 0.5);
}

void grad_weight_implicit_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                               const at::Tensor& input, const at::Tensor& grad_output,
                               at::Tensor& grad_weight) {
  TORCH_CHECK(grad_weight.is_contiguous(), "grad_weight_implicit: expected a contiguous grad_weight");
  GradWeightImplicit d = describe(p, o);
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2), d.x_sw = input.stride(3);
  d.g_sn = grad_output.stride(0), d.g_sc = grad_output.stride(1), d.g_sh = grad_output.stride(2),
  d.g_sw = grad_output.stride(3);
  const auto dtype = input.scalar_type();
  const bool split = dtype == at::kFloat && !o.allow_tf32;
  at::Tensor partials = at::empty({d.slices * d.weight_numel}, input.options().dtype(at::kFloat));
  at::Tensor redo = split ? at::zeros({1}, input.options().dtype(at::kInt)) : at::Tensor();
  const dim3 grid(unsigned(p.groups * d.ci_tiles * d.co_tiles), unsigned(d.taps), unsigned(d.slices));
  const auto stream = at::cuda::getCurrentCUDAStream();
  const auto run = [&](auto zero) {
    using scalar_t = decltype(zero);
    const scalar_t* x = input.data_ptr<scalar_t>();
    const scalar_t* gy = grad_output.data_ptr<scalar_t>();
    float* parts = partials.data_ptr<float>();
    const auto launch = [&](auto tile_m, auto tile_n) {
      constexpr int kM = decltype(tile_m)::value, kN = decltype(tile_n)::value;
      if constexpr (std::is_same<scalar_t, float>::value) {
        if (split) {  // the guarded launch returns at once unless redo was set
          grad_weight_kernel<float, kM, kN, true, false><<<grid, kThreads, 0, stream>>>(
              d, x, gy, parts, redo.data_ptr<int>());
          C10_CUDA_KERNEL_LAUNCH_CHECK();
          grad_weight_kernel<float, kM, kN, true, true><<<grid, kThreads, 0, stream>>>(
              d, x, gy, parts, redo.data_ptr<int>());
          C10_CUDA_KERNEL_LAUNCH_CHECK();
          return;
        }
      }
      grad_weight_kernel<scalar_t, kM, kN, false, false><<<grid, kThreads, 0, stream>>>(d, x, gy, parts, nullptr);
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    };
    using T32 = std::integral_constant<int, 32>;
    using T64 = std::integral_constant<int, kMaxTile>;
    if (d.tile_m == 32)
      d.tile_n == 32 ? launch(T32(), T32()) : launch(T32(), T64());
    else
      d.tile_n == 32 ? launch(T64(), T32()) : launch(T64(), T64());
    const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
    const int64_t blocks = std::max<int64_t>(1, std::min<int64_t>((d.weight_numel + 255) / 256, 4 * sms));
    sum_slices_kernel<scalar_t><<<unsigned(blocks), 256, 0, stream>>>(parts, d.slices, d.weight_numel,
                                                                      grad_weight.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  };
  switch (dtype) {  // grad_weight_implicit_applies admits these three
    case at::kFloat: return run(float(0));
    case at::kHalf: return run(c10::Half(0));
    case at::kBFloat16: return run(c10::BFloat16(0));
    default: TORCH_INTERNAL_ASSERT(false, "grad_weight_implicit: unsupported dtype ", dtype);
  }
}

}  // namespace gemm_convt
