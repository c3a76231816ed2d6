#include "direct_gather.cuh"

#include <ATen/AccumulateType.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <limits>

#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"

namespace gemm_convt {
namespace {

constexpr int kThreads = 256;
constexpr int kChannels = 8;  // output channels per thread: each input value read serves them all
// Auto rule, from the H100 (NOTES.md, session 5): the gather took ~9.2 ps per
// output value on kb75 and kb81 in float32 and float16 alike (bound per item,
// not by bytes, at up to ~20 multiply-adds per value); GEMM + col2im moved its
// bytes (columns twice, input and output once) at ~2 TB/s. The gather runs
// where it is predicted faster and multiply-adds per value stay that low.
constexpr double kAutoMaxMacs = 32.0;
constexpr double kGatherSecondsPerOutput = 9.2e-12;
constexpr double kColumnsPathBytesPerSecond = 2.0e12;

struct DirectGather {
  Axis<int32_t> h, w;
  Divider<int32_t> by_stride_h, by_stride_w, by_out_w, by_out_h, by_tiles, by_groups;
  int cin_g, cout_g, groups, tiles, taps;
  int64_t x_sn, x_sc, x_sh, x_sw, o_sn, o_sc, o_sh, o_sw;
  int items;
};

// One thread per (sample, group, channel tile, output position), output
// columns fastest so loads and stores of a warp are neighbours. The hits are
// found by the same walk col2im uses (geometry.h first_hit): only taps that
// land on this position are visited.
template <typename scalar_t>
__global__ void __launch_bounds__(kThreads, 3)
    direct_gather_kernel(const DirectGather d, const scalar_t* __restrict__ x,
                         const scalar_t* __restrict__ w, const scalar_t* __restrict__ bias,
                         scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  const int step = int(blockDim.x) * int(gridDim.x);
  for (int item = int(blockIdx.x) * int(blockDim.x) + int(threadIdx.x); item < d.items;
       item += step) {
    int rest = d.by_out_w.div(item);
    const int ow = item - rest * d.w.out_size;
    int next = d.by_out_h.div(rest);
    const int oh = rest - next * d.h.out_size;
    rest = d.by_tiles.div(next);
    const int tile = next - rest * d.tiles;
    const int n = d.by_groups.div(rest), g = rest - n * d.groups;
    const int c0 = tile * kChannels, count = min(kChannels, d.cout_g - c0);

    acc_t acc[kChannels];
#pragma unroll
    for (int c = 0; c < kChannels; ++c)
      acc[c] = bias && c < count ? static_cast<acc_t>(bias[g * d.cout_g + c0 + c]) : acc_t(0);
    // Channels past the group's last read the last one's weights (in bounds),
    // and are not stored.
    int w_off[kChannels];
#pragma unroll
    for (int c = 0; c < kChannels; ++c) w_off[c] = min(c, count - 1) * d.taps;

    const scalar_t* xg = x + n * d.x_sn + int64_t(g) * d.cin_g * d.x_sc;
    const int64_t w_ci = int64_t(d.cout_g) * d.taps;  // weight stride per input channel
    const scalar_t* wg = w + int64_t(g) * d.cin_g * w_ci + int64_t(c0) * d.taps;
    const AxisHit<int32_t> hh = first_hit(d.h, oh, d.by_stride_h);
    const AxisHit<int32_t> hw = first_hit(d.w, ow, d.by_stride_w);
    for (int i = hh.k, q = hh.q; i < d.h.kernel && q >= 0; i += d.h.hit_step, q -= d.h.hit_q_step) {
      if (q >= d.h.in_size) continue;
      for (int j = hw.k, p = hw.q; j < d.w.kernel && p >= 0;
           j += d.w.hit_step, p -= d.w.hit_q_step) {
        if (p >= d.w.in_size) continue;
        const scalar_t* xs = xg + q * d.x_sh + p * d.x_sw;
        const scalar_t* ws = wg + i * d.w.kernel + j;
        // Unrolled so that several input channels' loads are in flight at once:
        // one at a time, each step waited for its load (L2 latency).
#pragma unroll 8
        for (int ci = 0; ci < d.cin_g; ++ci) {
          const acc_t v = static_cast<acc_t>(xs[ci * d.x_sc]);
          const scalar_t* wc = ws + ci * w_ci;
#pragma unroll
          for (int c = 0; c < kChannels; ++c) acc[c] += v * static_cast<acc_t>(wc[w_off[c]]);
        }
      }
    }
    scalar_t* dst = out + n * d.o_sn + int64_t(g * d.cout_g + c0) * d.o_sc + oh * d.o_sh +
                    ow * d.o_sw;
#pragma unroll
    for (int c = 0; c < kChannels; ++c)
      if (c < count) dst[c * d.o_sc] = static_cast<scalar_t>(acc[c]);
  }
}

int64_t item_count(const Problem& p) {
  const int64_t tiles = (p.out_per_group + kChannels - 1) / kChannels;
  return p.batch * p.groups * tiles * p.out_h * p.out_w;
}

}  // namespace

double macs_per_output(const Problem& p, const ConvTranspose2dOptions& o) {
  return double(p.in_per_group) * double(p.kernel_taps()) / double(o.stride[0] * o.stride[1]);
}

bool direct_gather_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType weight_dtype) {
  if (o.direct_gather == 0) return false;
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  // 32-bit item and in-plane indices.
  if (item_count(p) > int_max || p.in_pixels() > int_max || p.out_h * p.out_w > int_max)
    return false;
  if (o.direct_gather > 0) return true;
  const at::ScalarType dtype = weight_dtype;  // the input's
  const double esize = double(c10::elementSize(dtype));
  const double col_esize =
      (dtype == at::kHalf || dtype == at::kBFloat16) && !o.float_columns ? 2.0 : std::max(esize, 4.0);
  const double outputs = double(p.batch) * double(p.out_channels()) * double(p.out_h * p.out_w);
  const double columns = double(p.batch) * double(p.out_channels()) * double(p.kernel_taps()) *
                         double(p.in_pixels());
  const double inputs = double(p.batch) * double(p.in_channels) * double(p.in_pixels());
  const double columns_path_s =
      (2.0 * columns * col_esize + (outputs + inputs) * esize) / kColumnsPathBytesPerSecond;
  return macs_per_output(p, o) <= kAutoMaxMacs &&
         outputs * kGatherSecondsPerOutput < columns_path_s;
}

void direct_gather_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out) {
  DirectGather d;
  d.h = make_axis<int32_t>(p.in_h, p.out_h, p.kernel_h, o.stride[0], o.padding[0], o.dilation[0]);
  d.w = make_axis<int32_t>(p.in_w, p.out_w, p.kernel_w, o.stride[1], o.padding[1], o.dilation[1]);
  d.by_stride_h = Divider<int32_t>(int32_t(o.stride[0]));
  d.by_stride_w = Divider<int32_t>(int32_t(o.stride[1]));
  d.by_out_w = Divider<int32_t>(int32_t(p.out_w));
  d.by_out_h = Divider<int32_t>(int32_t(p.out_h));
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group), d.groups = int(p.groups);
  d.tiles = int((p.out_per_group + kChannels - 1) / kChannels);
  d.by_tiles = Divider<int32_t>(d.tiles);
  d.by_groups = Divider<int32_t>(d.groups);
  d.taps = int(p.kernel_taps());
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2),
  d.x_sw = input.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  d.items = int(item_count(p));
  if (d.items == 0) return;
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t blocks = std::min<int64_t>((d.items + kThreads - 1) / kThreads, sms * 32);
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "direct_gather", [&] {
    direct_gather_kernel<scalar_t><<<static_cast<unsigned>(blocks), kThreads, 0, stream>>>(
        d, input.data_ptr<scalar_t>(), weight.data_ptr<scalar_t>(),
        bias.defined() ? bias.data_ptr<scalar_t>() : nullptr, out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

}  // namespace gemm_convt
