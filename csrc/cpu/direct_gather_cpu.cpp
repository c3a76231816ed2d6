// The direct gather on the CPU: every output position walks the taps that
// land on it (include/gemm_convt/gather.h, the walk the CUDA kernel runs) and
// contracts them with the weight in the accumulation type. Used on the CPU
// only when asked (set_direct_gather(True)): torch's BLAS makes GEMM + col2im
// the faster CPU path; it is here so that CI runs the gather's index math.

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include "../conv_transpose2d.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/gather.h"

namespace gemm_convt {
namespace {

// One plane (sample, group, output channel), kCols output columns one stride
// apart per position as the CUDA kernel's wide variant walks them.
template <typename scalar_t, int kCols>
void gather_plane(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                  const scalar_t* w, const scalar_t* bias, at::Tensor& out, int64_t n,
                  int64_t g, int64_t c) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
  const Axis<int64_t> h = height_axis<int64_t>(p, o), wa = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_stride_h(o.stride[0]), by_stride_w(o.stride[1]);
  const int64_t x_sc = input.stride(1), x_sh = input.stride(2), x_sw = input.stride(3);
  const scalar_t* xg =
      input.data_ptr<scalar_t>() + n * input.stride(0) + g * p.in_per_group * x_sc;
  const int64_t co = g * p.out_per_group + c, taps = p.kernel_taps();
  const int64_t w_ci = p.out_per_group * taps;  // weight stride per input channel
  const scalar_t* wc = w + g * p.in_per_group * w_ci + c * taps;
  scalar_t* dst = out.data_ptr<scalar_t>() + n * out.stride(0) + co * out.stride(1);
  const int64_t o_sh = out.stride(2), o_sw = out.stride(3);
  const acc_t b = bias ? static_cast<acc_t>(bias[co]) : acc_t(0);
  const int64_t positions = gather_row_positions(p.out_w, o.stride[1], kCols);
  for (int64_t oh = 0; oh < p.out_h; ++oh) {
    for (int64_t k = 0; k < positions; ++k) {
      const int64_t ow = gather_first_column<kCols>(k, wa.stride, by_stride_w);
      if (ow >= p.out_w) continue;
      acc_t acc[kCols];
      for (int u = 0; u < kCols; ++u) acc[u] = b;
      for_each_gather_hit<kCols>(
          h, wa, oh, ow, by_stride_h, by_stride_w,
          [&](int64_t i, int64_t q, int64_t j, int64_t pcol, const bool(&in)[kCols]) {
            const scalar_t* xs = xg + q * x_sh + pcol * x_sw;
            const scalar_t* ws = wc + i * p.kernel_w + j;
            for (int64_t ci = 0; ci < p.in_per_group; ++ci) {
              const acc_t wv = static_cast<acc_t>(ws[ci * w_ci]);
              for (int u = 0; u < kCols; ++u)
                if (in[u]) acc[u] += static_cast<acc_t>(xs[ci * x_sc + u * x_sw]) * wv;
            }
          });
      for (int u = 0; u < kCols && ow + u * wa.stride < p.out_w; ++u)
        dst[oh * o_sh + (ow + u * wa.stride) * o_sw] = static_cast<scalar_t>(acc[u]);
    }
  }
}

}  // namespace

void direct_gather_cpu(const Problem& p, const ConvTranspose2dOptions& o,
                       const at::Tensor& input, const at::Tensor& weight,
                       const at::Tensor& bias, at::Tensor& out) {
  const int64_t planes = p.batch * p.groups * p.out_per_group;
  // Two columns per position where the CUDA kernel takes two, so both of its walks run here.
  const bool two = gather_is_wide(p.in_per_group, p.kernel_taps(), o.stride[0], o.stride[1]);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(),
                                  "direct_gather_cpu", [&] {
    const scalar_t* w = weight.data_ptr<scalar_t>();
    const scalar_t* b = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const int64_t c = plane % p.out_per_group, rest = plane / p.out_per_group;
        const int64_t g = rest % p.groups, n = rest / p.groups;
        if (two)
          gather_plane<scalar_t, 2>(p, o, input, w, b, out, n, g, c);
        else
          gather_plane<scalar_t, 1>(p, o, input, w, b, out, n, g, c);
      }
    });
  });
}

}  // namespace gemm_convt
