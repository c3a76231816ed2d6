#include "border_redo.cuh"

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>

#include "allocator_blocks.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/gather.h"

namespace gemm_convt {
namespace {

constexpr int kThreads = 256;
// Each flag block writes its own flag (nothing to zero first); up to 1024 of
// them, each thread checking ~8 values, so that the weight streams at memory
// speed (64 blocks took dcgan's 8 MiB weight 51 us).
constexpr int kMaxFlagBlocks = 1024, kValuesPerThread = 8;

template <typename scalar_t>
__global__ void __launch_bounds__(kThreads)
    flag_non_finite_kernel(const scalar_t* __restrict__ w, int64_t count, int* __restrict__ flags) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  bool found = false;
#pragma unroll 4
  for (int64_t e = int64_t(blockIdx.x) * kThreads + threadIdx.x; e < count;
       e += int64_t(gridDim.x) * kThreads)
    found |= !isfinite(static_cast<acc_t>(w[e]));  // no short cut: the loads stay in flight
  found = __syncthreads_or(found);
  if (threadIdx.x == 0) flags[blockIdx.x] = found;
}

struct RedoGeometry {
  Axis<int64_t> h, w;
  Divider<int64_t> by_stride_h, by_stride_w;
  int64_t out_h, out_w, out_c, cin_g, cout_g, taps, outputs;
  int64_t x_sn, x_sc, x_sh, x_sw, o_sn, o_sc, o_sh, o_sw;
};

// One thread per output value (grid-stride), summing the taps that land on it
// (the gather's walk, gather.h) in the accumulation type. Runs only when a
// flag is set; slow but exact, for a weight that rarely holds inf or NaN.
template <typename scalar_t>
__global__ void __launch_bounds__(kThreads)
    border_redo_kernel(const RedoGeometry d, const int* __restrict__ flags, int flag_count,
                       const scalar_t* __restrict__ x, const scalar_t* __restrict__ w,
                       const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  int any = 0;  // the flags read side by side (one after another took ~40 us)
  for (int b = int(threadIdx.x); b < flag_count; b += kThreads) any |= flags[b];
  if (!__syncthreads_or(any)) return;
  for (int64_t e = int64_t(blockIdx.x) * kThreads + threadIdx.x; e < d.outputs;
       e += int64_t(gridDim.x) * kThreads) {
    const int64_t ow = e % d.out_w, oh = (e / d.out_w) % d.out_h;
    const int64_t co = (e / (d.out_w * d.out_h)) % d.out_c, n = e / (d.out_w * d.out_h * d.out_c);
    const int64_t g = co / d.cout_g, co_g = co - g * d.cout_g;
    const scalar_t* xg = x + n * d.x_sn + g * d.cin_g * d.x_sc;
    // weight [group * cin_g + ci][co_g][i][j], contiguous
    const scalar_t* wg = w + (g * d.cin_g * d.cout_g + co_g) * d.taps;
    acc_t acc = bias ? static_cast<acc_t>(bias[co]) : acc_t(0);
    for_each_gather_hit<1>(d.h, d.w, oh, ow, d.by_stride_h, d.by_stride_w,
                           [&](int64_t i, int64_t q, int64_t j, int64_t p, const bool(&)[1]) {
                             const scalar_t* xs = xg + q * d.x_sh + p * d.x_sw;
                             const scalar_t* ws = wg + i * d.w.kernel + j;
                             for (int64_t ci = 0; ci < d.cin_g; ++ci)
                               acc += static_cast<acc_t>(xs[ci * d.x_sc]) *
                                      static_cast<acc_t>(ws[ci * d.cout_g * d.taps]);
                           });
    out[n * d.o_sn + co * d.o_sc + oh * d.o_sh + ow * d.o_sw] = static_cast<scalar_t>(acc);
  }
}

int flag_blocks(const at::Tensor& weight) {
  const int64_t count = weight.numel(), per_block = int64_t(kThreads) * kValuesPerThread;
  return int(std::max<int64_t>(1, std::min<int64_t>(kMaxFlagBlocks, (count + per_block - 1) / per_block)));
}

}  // namespace

int64_t non_finite_flag_bytes(const at::Tensor& weight) {
  return allocator_held_bytes(int64_t(flag_blocks(weight)) * 4);
}

at::Tensor flag_non_finite_weight(const at::Tensor& weight) {
  TORCH_INTERNAL_ASSERT(weight.is_contiguous());
  const int64_t count = weight.numel();
  const int blocks = flag_blocks(weight);
  at::Tensor flags = at::empty({blocks}, weight.options().dtype(at::kInt));
  if (count == 0) return flags;  // never read: redo_if_flagged returns first
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, weight.scalar_type(), "flag_non_finite", [&] {
    flag_non_finite_kernel<scalar_t><<<blocks, kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
        weight.data_ptr<scalar_t>(), count, flags.data_ptr<int>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
  return flags;
}

void redo_if_flagged(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                     const at::Tensor& weight, const at::Tensor& bias, const at::Tensor& flags,
                     at::Tensor& out) {
  TORCH_INTERNAL_ASSERT(weight.is_contiguous() && (!bias.defined() || bias.is_contiguous()));
  RedoGeometry d;
  d.h = height_axis<int64_t>(p, o), d.w = width_axis<int64_t>(p, o);
  d.by_stride_h = Divider<int64_t>(o.stride[0]), d.by_stride_w = Divider<int64_t>(o.stride[1]);
  d.out_h = p.out_h, d.out_w = p.out_w, d.out_c = p.out_channels();
  d.cin_g = p.in_per_group, d.cout_g = p.out_per_group, d.taps = p.kernel_taps();
  d.outputs = p.batch * d.out_c * d.out_h * d.out_w;
  d.x_sn = input.stride(0), d.x_sc = input.stride(1), d.x_sh = input.stride(2), d.x_sw = input.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  if (d.outputs == 0 || weight.numel() == 0) return;
  // Two blocks per SM: when nothing is flagged each returns after reading the flags.
  const int blocks = 2 * at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "border_redo", [&] {
    border_redo_kernel<scalar_t><<<blocks, kThreads, 0, at::cuda::getCurrentCUDAStream()>>>(
        d, flags.data_ptr<int>(), int(flags.numel()), input.data_ptr<scalar_t>(),
        weight.data_ptr<scalar_t>(), bias.defined() ? bias.data_ptr<scalar_t>() : nullptr,
        out.data_ptr<scalar_t>());
    C10_CUDA_KERNEL_LAUNCH_CHECK();
  });
}

}  // namespace gemm_convt
