#include "direct_gather.cuh"

#include <ATen/AccumulateType.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cmath>
#include <limits>

#include "gemm_convt/divider.h"
#include "gemm_convt/gather.h"
#include "gather_rows.cuh"
#include "load_channels.cuh"

namespace gemm_convt {
namespace {

constexpr int kThreads = 256;
// Output channels per thread: each input value loaded serves them all. 16
// where outputs have many multiply-adds (gather.h, gather_is_wide; kb71:
// 3.71 -> 3.45 ms, kb78 8.3 -> 7.5), 8 where they have few (16 took kb75
// 0.93 -> 1.07, kb81 0.86 -> 1.19).
// The FMA rate below is the 8-channel one: it keeps unet_up (measured slower
// gathered) on GEMM + col2im.
constexpr int kFewChannels = 8, kManyChannels = 16;
// Auto rule: a cost model of both paths with rates measured on the H100
// (NOTES.md, session 5). The gather: ~4.5 ps per output value written, or its
// multiply-adds at ~10.5e12 per second (float32 FMAs on CUDA cores; about half
// that in float64), whichever is longer. GEMM + col2im: its bytes (columns
// written and read, input and output once) at ~2 TB/s plus the GEMM's flops
// at the rate of its precision. The gather runs where it is predicted at
// least 20% faster.
constexpr double kGatherSecondsPerOutput = 4.5e-12;
constexpr double kGatherMacsPerSecond = 10.5e12;
constexpr double kColumnsPathBytesPerSecond = 2.0e12;
constexpr double kGatherMargin = 0.8;

double gemm_flops_per_second(const Problem& p, at::ScalarType dtype, const ConvTranspose2dOptions& o) {
  switch (dtype) {
    case at::kDouble: return 50e12;
    case at::kHalf:
    case at::kBFloat16: return 600e12;
    default: return o.allow_tf32 ? 300e12 : (split_tf32_takes(p, o, dtype) ? 100e12 : 51e12);
  }
}

// One plane's weights in shared memory, under the 48 KiB a launch gets unasked.
constexpr int64_t kMaxWeightBytes = 46 * 1024;

struct DirectGather {
  Axis<int32_t> h, w;
  Divider<int32_t> by_stride_h, by_stride_w, by_row;
  int cin_g, cout_g, groups, tiles, taps, positions;
  int row_positions;  // per output row: out_w, or groups of columns one stride apart
  int64_t x_sn, x_sc, x_sh, x_sw, o_sn, o_sc, o_sh, o_sw;
};

// A block works on one plane (sample, group, tile of kChannels output
// channels; blockIdx.y) and a grid-stride range of its output positions, one
// per thread, output columns fastest so loads and stores of a warp are
// neighbours. The plane's weights sit in shared memory as [ci][tap][channel],
// so one input value meets its kChannels weights in 16-byte loads. The hits
// come from the walk the CPU path shares (gather.h): only taps that land on
// the position are visited.
template <typename scalar_t, int kChannels, int kCols>
__global__ void __launch_bounds__(kThreads, kChannels > 8 ? 2 : 3)
    direct_gather_kernel(const DirectGather d, const scalar_t* __restrict__ x,
                         const scalar_t* __restrict__ w, const scalar_t* __restrict__ bias,
                         scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  extern __shared__ __align__(16) unsigned char smem[];
  acc_t* weights = reinterpret_cast<acc_t*>(smem);
  const int plane = int(blockIdx.y), tile = plane % d.tiles, ng = plane / d.tiles;
  const int n = ng / d.groups, g = ng - n * d.groups;
  const int c0 = tile * kChannels, count = min(kChannels, d.cout_g - c0);
  const int64_t w_ci = int64_t(d.cout_g) * d.taps;  // weight stride per input channel
  // Channels past the group's last repeat its weights; they are not stored.
  for (int e = int(threadIdx.x); e < d.cin_g * d.taps * kChannels; e += kThreads) {
    const int c = e % kChannels, rest = e / kChannels, tap = rest % d.taps, ci = rest / d.taps;
    const int co = c0 + min(c, count - 1);
    weights[e] = static_cast<acc_t>(w[(int64_t(g) * d.cin_g + ci) * w_ci + co * d.taps + tap]);
  }
  acc_t b[kChannels];
#pragma unroll
  for (int c = 0; c < kChannels; ++c)
    b[c] = bias && c < count ? static_cast<acc_t>(bias[g * d.cout_g + c0 + c]) : acc_t(0);
  __syncthreads();

  const scalar_t* xg = x + n * d.x_sn + int64_t(g) * d.cin_g * d.x_sc;
  scalar_t* out_plane = out + n * d.o_sn + int64_t(g * d.cout_g + c0) * d.o_sc;
  const int ci_step = d.taps * kChannels;  // weights per input channel in shared memory
  const int s_w = d.w.stride, step = int(blockDim.x) * int(gridDim.x);
  for (int pos = int(blockIdx.x) * int(blockDim.x) + int(threadIdx.x); pos < d.positions;
       pos += step) {
    // kCols output columns one stride apart (ow, ow + s_w, ...): they share
    // their taps, column k reading input column p + k.
    const int oh = d.by_row.div(pos), k = pos - oh * d.row_positions;
    const int ow = gather_first_column<kCols>(k, s_w, d.by_stride_w);
    if (ow >= d.w.out_size) continue;
    acc_t acc[kCols][kChannels];
#pragma unroll
    for (int u = 0; u < kCols; ++u)
#pragma unroll
      for (int c = 0; c < kChannels; ++c) acc[u][c] = b[c];
    for_each_gather_hit<kCols>(
        d.h, d.w, oh, ow, d.by_stride_h, d.by_stride_w,
        [&](int i, int q, int j, int p, const bool(&in)[kCols]) {
          const scalar_t* xs = xg + q * d.x_sh + p * d.x_sw;  // read only where in[u]
          const acc_t* ws = weights + (i * d.w.kernel + j) * kChannels;
          // A column whose input is missing (past the input's edge) skips the
          // tap: 0 x inf would be NaN where torch adds nothing. The test is the
          // same for every channel, so its FMAs are just predicated.
          // Unrolled so that several input channels' loads are in flight at once.
#pragma unroll 4
          for (int ci = 0; ci < d.cin_g; ++ci) {
            acc_t v[kCols];
#pragma unroll
            for (int u = 0; u < kCols; ++u)
              v[u] = in[u] ? static_cast<acc_t>(xs[ci * d.x_sc + u * d.x_sw]) : acc_t(0);
            acc_t wv[kChannels];
            load_channels(ws + ci * ci_step, wv);
#pragma unroll
            for (int u = 0; u < kCols; ++u)
              if (kCols == 1 || in[u])  // one column: the walk calls only where it lands
#pragma unroll
                for (int c = 0; c < kChannels; ++c) acc[u][c] += v[u] * wv[c];
          }
        });
#pragma unroll
    for (int u = 0; u < kCols; ++u) {
      if (ow + u * s_w >= d.w.out_size) break;
      scalar_t* dst = out_plane + oh * d.o_sh + (ow + u * s_w) * d.o_sw;
#pragma unroll
      for (int c = 0; c < kChannels; ++c)
        if (c < count) dst[c * d.o_sc] = static_cast<scalar_t>(acc[u][c]);
    }
  }
}

// Output columns per thread: two (one stride apart, sharing taps and weight
// loads) with 16 channels: kb71 IEEE 3.41 -> 2.85 ms, kb78 7.42 -> 6.25 in one
// lease (two rows one stride apart had been slower, three columns too: NOTES.md).
int gather_columns(int channels) { return channels == kManyChannels ? 2 : 1; }

int channels_per_thread(const Problem& p, const ConvTranspose2dOptions& o) {
  return gather_is_wide(p.in_per_group, p.kernel_taps(), o.stride[0], o.stride[1]) ? kManyChannels
                                                                                   : kFewChannels;
}

int64_t plane_count(const Problem& p, int channels) {
  return p.batch * p.groups * ((p.out_per_group + channels - 1) / channels);
}

int64_t weight_bytes(const Problem& p, at::ScalarType dtype, int channels) {
  const int64_t acc_bytes = dtype == at::kDouble ? 8 : 4;
  return p.in_per_group * p.kernel_taps() * channels * acc_bytes;
}

// The generic kernel's limits: 32-bit in-plane indices, planes on the grid's y axis, a
// plane's weights in shared memory.
bool generic_gather_supported(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype) {
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  const int channels = channels_per_thread(p, o);
  return p.in_pixels() <= int_max && p.out_h * (p.out_w + 2 * o.stride[1]) <= int_max &&
         plane_count(p, channels) <= 65535 && weight_bytes(p, dtype, channels) <= kMaxWeightBytes;
}

}  // namespace

double direct_gather_seconds(const Problem& p, const ConvTranspose2dOptions& o,
                             at::ScalarType dtype) {
  if (gather_rows_supported(p, o, dtype)) return gather_rows_seconds(p, dtype);
  if (!generic_gather_supported(p, o, dtype)) return std::numeric_limits<double>::infinity();
  const double outputs = double(p.batch) * double(p.out_channels()) * double(p.out_h * p.out_w);
  const double macs = double(p.batch) * double(p.out_channels()) * double(p.kernel_taps()) *
                      double(p.in_pixels()) * double(p.in_per_group);
  return std::max(outputs * kGatherSecondsPerOutput,
                  macs / (kGatherMacsPerSecond * (dtype == at::kDouble ? 0.5 : 1.0)));
}

double columns_path_seconds(const Problem& p, const ConvTranspose2dOptions& o,
                            at::ScalarType dtype) {
  const double esize = double(c10::elementSize(dtype));
  const double col_esize =
      (dtype == at::kHalf || dtype == at::kBFloat16) && !o.float_columns ? 2.0 : std::max(esize, 4.0);
  const double outputs = double(p.batch) * double(p.out_channels()) * double(p.out_h * p.out_w);
  const double columns = double(p.batch) * double(p.out_channels()) * double(p.kernel_taps()) *
                         double(p.in_pixels());
  const double inputs = double(p.batch) * double(p.in_channels) * double(p.in_pixels());
  const double macs = columns * double(p.in_per_group);  // every (input pixel, tap) product
  return (2.0 * columns * col_esize + (outputs + inputs) * esize) / kColumnsPathBytesPerSecond +
         2.0 * macs / gemm_flops_per_second(p, dtype, o);
}

bool direct_gather_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType dtype) {
  if (o.direct_gather == 0) return false;
  const double seconds = direct_gather_seconds(p, o, dtype);
  if (!std::isfinite(seconds)) return false;  // neither form can run it
  return o.direct_gather > 0 || seconds < kGatherMargin * columns_path_seconds(p, o, dtype);
}

void direct_gather_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out) {
  if (gather_rows_supported(p, o, input.scalar_type())) {
    gather_rows_cuda(p, o, input, weight, bias, out);
    return;
  }
  DirectGather d;
  d.h = height_axis<int32_t>(p, o), d.w = width_axis<int32_t>(p, o);
  d.by_stride_h = Divider<int32_t>(int32_t(o.stride[0]));
  d.by_stride_w = Divider<int32_t>(int32_t(o.stride[1]));
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group), d.groups = int(p.groups);
  const int channels = channels_per_thread(p, o);
  d.tiles = int((p.out_per_group + channels - 1) / channels);
  d.taps = int(p.kernel_taps());
  const int cols = gather_columns(channels);
  d.row_positions = int(gather_row_positions(p.out_w, o.stride[1], cols));
  d.by_row = Divider<int32_t>(d.row_positions);
  d.positions = int(p.out_h * d.row_positions);
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2),
  d.x_sw = input.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  const int64_t planes = plane_count(p, channels);
  if (planes == 0 || d.positions == 0) return;
  // About eight waves of three blocks per SM over all planes; each block
  // loads its plane's weights once.
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t per_plane = (d.positions + kThreads - 1) / kThreads;
  const int64_t blocks_x = std::max<int64_t>(1, std::min(per_plane, (sms * 24 + planes - 1) / planes));
  const dim3 grid(static_cast<unsigned>(blocks_x), static_cast<unsigned>(planes));
  const size_t smem = size_t(weight_bytes(p, input.scalar_type(), channels));
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "direct_gather", [&] {
    auto* kernel = channels == kFewChannels ? direct_gather_kernel<scalar_t, kFewChannels, 1>
                   : cols == 1              ? direct_gather_kernel<scalar_t, kManyChannels, 1>
                                            : direct_gather_kernel<scalar_t, kManyChannels, 2>;
    kernel<<<grid, kThreads, smem, stream>>>(
        d, input.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
        bias.defined() ? bias.data_ptr<scalar_t>() : nullptr, out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

}  // namespace gemm_convt
