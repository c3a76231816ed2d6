#include "gather_rows.cuh"

#include <ATen/AccumulateType.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <limits>

#include "gemm_convt/divider.h"
#include "gemm_convt/gather.h"
#include "load_channels.cuh"
#include "ptx.cuh"

namespace gemm_convt {
namespace {

constexpr int kThreads = 256;
constexpr int kSpan = 128;           // output columns per block, one per thread
constexpr int kChannels = 16;        // output channels per thread
constexpr int kTileChannels = 32;    // per block: two halves of 128 threads
constexpr int kRowTile = 4;          // rows per thread, one stride apart: the same taps and weights
constexpr int kRowGroups = 4;        // row tiles a block takes in turn, staged one ahead
constexpr int kRowsPerBlock = kRowGroups * kRowTile;
// Staged weights per (input channel, kernel column): 32 channels and 4 spare,
// so the 16-byte loads of lanes on different kernel columns start 4 banks
// apart (no conflicts between the three or four columns a warp meets).
constexpr int kTapPitch = kTileChannels + 4;
// Two blocks of 256 threads an SM (registers); each may take up to 96 KiB.
constexpr int64_t kMaxSmemBytes = 96 * 1024;

struct GatherRows {
  Axis<int32_t> h, w;
  Divider<int32_t> by_stride_h, by_stride_w, by_x_cols, by_cin;
  int cin_g, cout_g, groups, channel_tiles;
  int spans;              // blocks along a row
  int x_cols, x_pitch;    // input columns a block stages; its row pitch (a zero column at x_cols)
  int64_t x_sn, x_sc, x_sh, x_sw, o_sn, o_sc, o_sh, o_sw;
};

// Input columns a block of kSpan output columns can read (disjoint taps: the
// dilated kernel spans less than a stride), plus one for floor rounding.
int staged_columns(const Problem& p, const ConvTranspose2dOptions& o) {
  return int((kSpan - 1 + (p.kernel_w - 1) * o.dilation[1]) / o.stride[1] + 2);
}

template <typename acc_t>
int64_t smem_bytes(const Problem& p, const ConvTranspose2dOptions& o) {
  const int64_t weights = p.in_per_group * (p.kernel_w + 1) * kTapPitch;
  const int64_t inputs = 2 * kRowTile * p.in_per_group * (staged_columns(p, o) + 1);  // two buffers
  return (weights + inputs) * int64_t(sizeof(acc_t));
}

// One staged input value: converted to the accumulation type; or, where that
// is the input's type, copied by cp.async (sm80+), which the staging's commit
// and the tile's wait bracket.
template <typename scalar_t, typename acc_t>
__device__ __forceinline__ void stage_element(acc_t* dst, const scalar_t* src, bool inside) {
  *dst = inside ? static_cast<acc_t>(*src) : acc_t(0);
}
template <typename T>
__device__ __forceinline__ void stage_element(T* dst, const T* src, bool inside) {
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  copy_async_element(dst, src, inside);
#else
  *dst = inside ? *src : T(0);
#endif
}

// Block (span, stride phase, run of rows; blockIdx.x) x (sample, group, tile of
// 32 channels; blockIdx.y). Thread: output column span * 128 + threadIdx.x %
// 128, channels (threadIdx.x / 128) * 16 of the tile, kRowTile rows at a time.
// The kernel row i of the phase's rows is staged once as [ci][j][channel], a
// zero row at j = kernel_w; the input rows of kRowTile output rows as
// [row][ci][column], a zero column at x_cols. A column with no tap reads the
// zero row and column: 0 * 0, never a product with a stored value (0 * inf
// would be NaN where torch adds nothing). A row whose input row lies outside
// the input is computed from zeros and its result dropped for the bias.
// Each weight load serves kRowTile rows: with one row a thread, shared-memory
// loads bound the kernel (ncu, kb81: L1 85%, 0.70 ms; NOTES.md session 36).
template <typename scalar_t, typename index_t>
__global__ void __launch_bounds__(kThreads, 2)
    gather_rows_kernel(const GatherRows d, const scalar_t* __restrict__ x,
                       const scalar_t* __restrict__ w, const scalar_t* __restrict__ bias,
                       scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  extern __shared__ __align__(16) unsigned char smem[];
  acc_t* ws = reinterpret_cast<acc_t*>(smem);
  acc_t* xs = ws + d.cin_g * (d.w.kernel + 1) * kTapPitch;
  const int x_rows = d.cin_g * d.x_pitch;  // one staged row
  const int x_tile = kRowTile * x_rows;     // one buffer
  const int b = int(blockIdx.x), span = b % d.spans, rest = b / d.spans;
  const int phase = rest % d.h.stride, run = rest / d.h.stride;
  const int plane = int(blockIdx.y), tile = plane % d.channel_tiles, ng = plane / d.channel_tiles;
  const int n = ng / d.groups, g = ng - n * d.groups;
  const int half = int(threadIdx.x) / kSpan, c0 = tile * kTileChannels + half * kChannels;
  const int count = min(kChannels, d.cout_g - c0);  // <= 0: this half stores nothing

  // The rows' kernel row: the same for every row of the phase (disjoint taps);
  // rows one stride apart read consecutive input rows (row r reads q0 + r).
  const int first_row = phase + run * kRowsPerBlock * d.h.stride;
  const AxisHit<int32_t> row0 = first_hit(d.h, first_row, d.by_stride_h);
  const int i = row0.k, q0 = row0.q;
  const bool taps = i < d.h.kernel;  // uniform: a phase no kernel row reaches takes the bias
  const int w_ci = d.w.kernel + 1;

  // The thread's column: its kernel column j and input column p (the zero row
  // and column where no tap lands inside the input).
  const int ow0 = span * kSpan, ow = ow0 + int(threadIdx.x) % kSpan;
  const int p_base = floor_div(ow0 + d.w.pad - (d.w.kernel - 1) * (d.w.dil_div * d.w.stride + d.w.dil_mod),
                               d.w.stride);
  AxisHit<int32_t> col{d.w.kernel, 0};
  if (ow < d.w.out_size) col = disjoint_hit(d.w, ow, d.by_stride_w);
  const int x_at = col.k < d.w.kernel ? col.q - p_base : d.x_cols;
  const acc_t* w_at = ws + (col.k * kTapPitch + half * kChannels);
  const scalar_t* xg = x + n * d.x_sn + int64_t(g) * d.cin_g * d.x_sc;
  scalar_t* og = out + n * d.o_sn + int64_t(g * d.cout_g + c0) * d.o_sc + int64_t(ow) * d.o_sw;
  // The tile's bias (zeros without one), read once a tile row by every thread.
  __shared__ acc_t bias_s[kTileChannels];
  if (threadIdx.x < kTileChannels) {
    const int co = tile * kTileChannels + int(threadIdx.x);
    bias_s[threadIdx.x] = bias && co < d.cout_g ? static_cast<acc_t>(bias[g * d.cout_g + co]) : acc_t(0);
  }
  __syncthreads();  // bias_s, for blocks with no taps (no barrier before their stores)

  // Row tile k's input rows into buffer k % 2 as [row][ci][column], zeros
  // outside the input: by cp.async where the staged type is the input's
  // (float32, float64; sm80+), so the next tile's loads run under this tile's
  // products (stall samples, v3: 22% on the staging's stores). Offsets within
  // the sample's group in index_t (32 bits wherever they fit: v4's 64-bit
  // products cost ~30 instructions an element).
  const index_t x_sc = index_t(d.x_sc), x_sh = index_t(d.x_sh), x_sw = index_t(d.x_sw);
  const int entries = kRowTile * d.cin_g * d.x_cols;
  const auto stage = [&](int k) {
    acc_t* buf = xs + (k % 2) * x_tile;
    const int q_tile = q0 + k * kRowTile;
    for (int e = int(threadIdx.x); e < entries; e += kThreads) {
      const int rc = d.by_x_cols.div(e), t = e - rc * d.x_cols, pcol = p_base + t;
      const int r = d.by_cin.div(rc), ci = rc - r * d.cin_g, q = q_tile + r;
      const bool inside = unsigned(q) < unsigned(d.h.in_size) && unsigned(pcol) < unsigned(d.w.in_size);
      const index_t offset = inside ? ci * x_sc + q * x_sh + pcol * x_sw : index_t(0);
      stage_element(buf + rc * d.x_pitch + t, xg + offset, inside);
    }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    copy_async_commit();
#endif
  };
  // A tile's rows (rows of them inside the output, from oh0): straight-line
  // stores where the tile is whole (v4's per-store branches and spilled row
  // offsets held a third of its stall samples).
  const auto store_tile = [&](const acc_t(&acc)[kRowTile][kChannels], int oh0, int rows) {
    if (ow >= d.w.out_size) return;
    scalar_t* dst = og + int64_t(oh0) * d.o_sh;
    const int64_t row_step = int64_t(d.h.stride) * d.o_sh;
    if (rows == kRowTile && count == kChannels) {
#pragma unroll
      for (int c = 0; c < kChannels; ++c, dst += d.o_sc) {
        const acc_t bc = bias_s[half * kChannels + c];
#pragma unroll
        for (int r = 0; r < kRowTile; ++r) dst[r * row_step] = static_cast<scalar_t>(acc[r][c] + bc);
      }
    } else {
#pragma unroll
      for (int c = 0; c < kChannels; ++c, dst += d.o_sc) {
        if (c >= count) break;
        const acc_t bc = bias_s[half * kChannels + c];
#pragma unroll
        for (int r = 0; r < kRowTile; ++r)
          if (r < rows) dst[r * row_step] = static_cast<scalar_t>(acc[r][c] + bc);
      }
    }
  };
  // The tile's rows inside the output: a prefix of its kRowTile rows.
  const auto rows_inside = [&](int oh0) { return min(kRowTile, (d.h.out_size - 1 - oh0) / d.h.stride + 1); };

  if (!taps) {  // a phase no kernel row reaches: the bias alone
    acc_t zeros[kRowTile][kChannels];
#pragma unroll
    for (int r = 0; r < kRowTile; ++r)
#pragma unroll
      for (int c = 0; c < kChannels; ++c) zeros[r][c] = acc_t(0);
    for (int k = 0; k < kRowGroups; ++k) {
      const int oh0 = first_row + k * kRowTile * d.h.stride;
      if (oh0 >= d.h.out_size) break;
      store_tile(zeros, oh0, rows_inside(oh0));
    }
    return;
  }

  {
    const int tap_entries = d.cin_g * w_ci * kTileChannels;
    for (int e = int(threadIdx.x); e < tap_entries; e += kThreads) {
      const int c = e % kTileChannels, rest_e = e / kTileChannels;
      const int j = rest_e % w_ci, ci = rest_e / w_ci, co = tile * kTileChannels + c;
      acc_t v = acc_t(0);
      if (j < d.w.kernel && co < d.cout_g)
        v = static_cast<acc_t>(
            w[((int64_t(g) * d.cin_g + ci) * d.cout_g + co) * (d.h.kernel * d.w.kernel) +
              i * d.w.kernel + j]);
      ws[(ci * w_ci + j) * kTapPitch + c] = v;
    }
    for (int e = int(threadIdx.x); e < 2 * kRowTile * d.cin_g; e += kThreads)
      xs[e * d.x_pitch + d.x_cols] = acc_t(0);
    stage(0);
  }

  for (int k = 0; k < kRowGroups; ++k) {
    const int r0 = k * kRowTile, oh0 = first_row + r0 * d.h.stride;
    if (oh0 >= d.h.out_size) break;  // past the output: so are the tiles after
    if (k + 1 < kRowGroups) stage(k + 1);  // into the buffer tile k - 1 read
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
    if (k + 1 < kRowGroups)
      copy_async_wait<1>();  // tile k's copies landed (this thread's)
    else
      copy_async_wait<0>();
#endif
    __syncthreads();  // ... everyone's, and the weights
    acc_t acc[kRowTile][kChannels];
#pragma unroll
    for (int r = 0; r < kRowTile; ++r)
#pragma unroll
      for (int c = 0; c < kChannels; ++c) acc[r][c] = acc_t(0);
    const acc_t* xk = xs + (k % 2) * x_tile + x_at;
    const acc_t* wk = w_at;
#pragma unroll 2
    for (int ci = 0; ci < d.cin_g; ++ci, xk += d.x_pitch, wk += w_ci * kTapPitch) {
      acc_t v[kRowTile];
#pragma unroll
      for (int r = 0; r < kRowTile; ++r) v[r] = xk[r * x_rows];
      acc_t wv[kChannels];
      load_channels(wk, wv);
#pragma unroll
      for (int r = 0; r < kRowTile; ++r)
#pragma unroll
        for (int c = 0; c < kChannels; ++c) acc[r][c] += v[r] * wv[c];
    }
    __syncthreads();  // buffer k % 2 read before tile k + 2 is staged into it
    // Rows with no input row take the bias alone: their products of staged
    // zeros are dropped (0 * inf would be NaN where torch adds nothing).
    const int rows = rows_inside(oh0), q_first = q0 + r0;
    if (q_first < 0 || q_first + rows > d.h.in_size) {
#pragma unroll
      for (int r = 0; r < kRowTile; ++r) {
        if (q_first + r >= 0 && q_first + r < d.h.in_size) continue;
#pragma unroll
        for (int c = 0; c < kChannels; ++c) acc[r][c] = acc_t(0);
      }
    }
    store_tile(acc, oh0, rows);
  }
#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 800
  copy_async_wait<0>();  // a tile staged ahead of a break lands before the block exits
#endif
}

int64_t channel_tiles(const Problem& p) { return (p.out_per_group + kTileChannels - 1) / kTileChannels; }
// Blocks along an output row; blocks along a stride phase's rows (kRowsPerBlock each).
int64_t row_spans(const Problem& p) { return (p.out_w + kSpan - 1) / kSpan; }
int64_t phase_runs(const Problem& p, const ConvTranspose2dOptions& o) {
  return ((p.out_h + o.stride[0] - 1) / o.stride[0] + kRowsPerBlock - 1) / kRowsPerBlock;
}

}  // namespace

bool gather_rows_supported(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType dtype) {
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  if (!p.out_rows_contiguous || !gather_takes_rows(p.kernel_h, p.kernel_w, o.stride[0],
                                                   o.stride[1], o.dilation[0], o.dilation[1]))
    return false;
  const int64_t bytes = dtype == at::kDouble ? smem_bytes<double>(p, o) : smem_bytes<float>(p, o);
  const int64_t optin = int64_t(at::cuda::getCurrentDeviceProperties()->sharedMemPerBlockOptin);
  return bytes <= std::min(kMaxSmemBytes, optin) && p.batch * p.groups * channel_tiles(p) <= 65535 &&
         row_spans(p) * o.stride[0] * phase_runs(p, o) <= int_max &&
         p.out_h + (kRowsPerBlock + 1) * o.stride[0] + o.padding[0] <= int_max &&
         p.out_w + kSpan + o.padding[1] <= int_max && p.in_h <= int_max && p.in_w <= int_max;
}

// Rates measured on the H200 (NOTES.md session 36, kb81: v4 510 us float32,
// 535 float16): the output written at ~2.8 TB/s, or the multiply-adds of every
// column of the tap rows (the gap columns run the zero row) at ~7.5e12 a
// second (half that in float64), whichever is longer. v5 ran kb81 in 424 us
// (9.5e12, session 37); the rate is left at v4's, which changes no choice in
// the suite. 16-bit inputs are converted as they are staged, with no cp.async:
// the rule keeps #81 on GEMM + col2im (0.49 against 0.58 ms, v4).
double gather_rows_seconds(const Problem& p, at::ScalarType dtype) {
  constexpr double kOutputBytesPerSecond = 2.8e12, kMacsPerSecond = 7.5e12;
  const double outputs = double(p.batch) * double(p.out_channels()) * double(p.out_h * p.out_w);
  const double tap_rows = double(std::min(p.out_h, p.kernel_h * p.in_h));
  const double macs = double(p.batch) * double(p.groups) * double(channel_tiles(p) * kTileChannels) *
                      tap_rows * double(row_spans(p) * kSpan) * double(p.in_per_group);
  return std::max(outputs * double(c10::elementSize(dtype)) / kOutputBytesPerSecond,
                  macs / (kMacsPerSecond * (dtype == at::kDouble ? 0.5 : 1.0)));
}

void gather_rows_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                      const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out) {
  GatherRows d;
  d.h = height_axis<int32_t>(p, o), d.w = width_axis<int32_t>(p, o);
  d.by_stride_h = Divider<int32_t>(int32_t(o.stride[0]));
  d.by_stride_w = Divider<int32_t>(int32_t(o.stride[1]));
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group), d.groups = int(p.groups);
  d.channel_tiles = int(channel_tiles(p));
  d.spans = int(row_spans(p));
  d.x_cols = staged_columns(p, o), d.x_pitch = d.x_cols + 1;
  d.by_x_cols = Divider<int32_t>(d.x_cols);
  d.by_cin = Divider<int32_t>(d.cin_g);
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2),
  d.x_sw = input.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  const int64_t planes = p.batch * p.groups * d.channel_tiles;
  if (planes == 0 || p.out_h == 0 || p.out_w == 0) return;
  const dim3 grid(unsigned(row_spans(p) * o.stride[0] * phase_runs(p, o)), unsigned(planes));
  const auto stream = at::cuda::getCurrentCUDAStream();
  // The largest offset the staging forms within a sample's group (strides are
  // not negative): 32-bit arithmetic wherever it fits.
  const int64_t x_extent = (p.in_per_group - 1) * d.x_sc + (p.in_h - 1) * d.x_sh + (p.in_w - 1) * d.x_sw;
  const bool offsets32 = x_extent <= int64_t(std::numeric_limits<int32_t>::max());
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "gather_rows", [&] {
    using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
    const size_t smem = size_t(smem_bytes<acc_t>(p, o));
    const auto launch = [&](auto kernel) {
      if (smem > 48 * 1024)
        C10_CUDA_CHECK(cudaFuncSetAttribute(kernel, cudaFuncAttributeMaxDynamicSharedMemorySize, int(smem)));
      kernel<<<grid, kThreads, smem, stream>>>(d, input.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
                                               bias.defined() ? bias.data_ptr<scalar_t>() : nullptr,
                                               out.data_ptr<scalar_t>());
      C10_CUDA_KERNEL_LAUNCH_CHECK();
    };
    if (offsets32)
      launch(gather_rows_kernel<scalar_t, int32_t>);
    else
      launch(gather_rows_kernel<scalar_t, int64_t>);
  });
}

}  // namespace gemm_convt
