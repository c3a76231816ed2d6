// The implicit GEMM's walk on the CPU: per output row and width phase, the row
// taps and the phase's width taps (include/gemm_convt/implicit.h, as the CUDA
// kernel walks them), each tap's input columns contracted with the weight in
// the accumulation type. Used on the CPU only when asked
// (set_implicit_gemm(True)): it is here so that CI runs the kernel's index math.

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <vector>

#include "../conv_transpose2d.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/implicit.h"

namespace gemm_convt {
namespace {

// One output row of one plane (sample, group, output channel), phase by phase.
template <typename scalar_t>
void implicit_row(const Problem& p, const Axis<int64_t>& h, const Axis<int64_t>& w,
                  const Divider<int64_t>& by_stride_h, const Divider<int64_t>& by_stride_w,
                  const at::Tensor& input, const scalar_t* weight, const scalar_t* bias,
                  at::Tensor& out, int64_t n, int64_t g, int64_t c, int64_t oh,
                  std::vector<at::acc_type<scalar_t, false>>& acc) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
  const int64_t x_sc = input.stride(1), x_sh = input.stride(2), x_sw = input.stride(3);
  const scalar_t* xg = input.data_ptr<scalar_t>() + n * input.stride(0) + g * p.in_per_group * x_sc;
  const int64_t co = g * p.out_per_group + c, taps = p.kernel_taps();
  const int64_t w_ci = p.out_per_group * taps;  // weight stride per input channel
  const scalar_t* wc = weight + g * p.in_per_group * w_ci + c * taps;
  scalar_t* dst = out.data_ptr<scalar_t>() + n * out.stride(0) + co * out.stride(1) + oh * out.stride(2);
  const acc_t b = bias ? static_cast<acc_t>(bias[co]) : acc_t(0);
  for (int64_t phase = 0; phase < std::min(w.stride, w.out_size); ++phase) {
    const int64_t count = phase_length(w, phase);
    const PhaseTaps<int64_t> pt = phase_taps(w, phase, by_stride_w);
    acc.assign(size_t(count), b);
    for (RowTap<int64_t> rt = first_row_tap(h, oh, by_stride_h); pt.hits > 0 && rt.i < h.kernel;
         rt = next_row_tap(h, rt)) {
      for (int64_t t = 0; t < pt.hits; ++t) {
        const int64_t j = pt.first + t * w.hit_step, col0 = pt.base - t * w.hit_q_step;
        // Positions whose input column lies inside the input: col0 + m in [0, in_size).
        const int64_t m_begin = std::max<int64_t>(0, -col0);
        const int64_t m_end = std::min(count, w.in_size - col0);
        for (int64_t ci = 0; ci < p.in_per_group; ++ci) {
          const acc_t wv = static_cast<acc_t>(wc[ci * w_ci + rt.i * p.kernel_w + j]);
          const scalar_t* xs = xg + ci * x_sc + rt.q * x_sh + col0 * x_sw;
          for (int64_t m = m_begin; m < m_end; ++m) acc[m] += static_cast<acc_t>(xs[m * x_sw]) * wv;
        }
      }
    }
    for (int64_t m = 0; m < count; ++m)
      dst[(phase + m * w.stride) * out.stride(3)] = static_cast<scalar_t>(acc[m]);
  }
}

}  // namespace

void implicit_gemm_cpu(const Problem& p, const ConvTranspose2dOptions& o,
                       const at::Tensor& input, const at::Tensor& weight,
                       const at::Tensor& bias, at::Tensor& out) {
  const Axis<int64_t> h = height_axis<int64_t>(p, o), w = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_stride_h(o.stride[0]), by_stride_w(o.stride[1]);
  const int64_t planes = p.batch * p.groups * p.out_per_group;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(),
                                  "implicit_gemm_cpu", [&] {
    const scalar_t* wt = weight.data_ptr<scalar_t>();
    const scalar_t* b = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      std::vector<at::acc_type<scalar_t, false>> acc;
      for (int64_t plane = begin; plane < end; ++plane) {
        const int64_t c = plane % p.out_per_group, rest = plane / p.out_per_group;
        const int64_t g = rest % p.groups, n = rest / p.groups;
        for (int64_t oh = 0; oh < p.out_h; ++oh)
          implicit_row(p, h, w, by_stride_h, by_stride_w, input, wt, b, out, n, g, c, oh, acc);
      }
    });
  });
}

}  // namespace gemm_convt
