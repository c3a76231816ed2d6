// grad_weight contracted in place on the CPU: each weight entry (input
// channel, output channel, tap) sums input x grad_output over every position,
// reading grad_output where the tap lands (include/gemm_convt/grad_weight.h,
// as the CUDA kernel does), in the accumulation type. Used when the implicit
// GEMM is forced (set_implicit_gemm(True)): it is here so that CI runs the
// kernel's index math.

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "../conv_transpose2d_backward.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/grad_weight.h"

namespace gemm_convt {

void grad_weight_walk_cpu(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                          const at::Tensor& grad_output, at::Tensor& grad_weight) {
  const Axis<int64_t> h = height_axis<int64_t>(p, o), w = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_pixels(p.in_pixels()), by_width(p.in_w);
  const int64_t positions = p.batch * p.in_pixels();
  at::Tensor gw = grad_weight.is_contiguous() ? grad_weight : at::empty_like(grad_weight, at::MemoryFormat::Contiguous);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "gemm_convt_grad_weight_cpu", [&] {
    using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
    const scalar_t* x = input.data_ptr<scalar_t>();
    const scalar_t* gy = grad_output.data_ptr<scalar_t>();
    scalar_t* out = gw.data_ptr<scalar_t>();
    const int64_t xs_n = input.stride(0), xs_c = input.stride(1), xs_h = input.stride(2), xs_w = input.stride(3);
    const int64_t gs_n = grad_output.stride(0), gs_c = grad_output.stride(1), gs_h = grad_output.stride(2),
                  gs_w = grad_output.stride(3);
    // One task per (input channel, output channel of its group): all taps, each
    // position split once and its taps' sums kept side by side.
    const int64_t taps = p.kernel_taps();
    at::parallel_for(0, p.in_channels * p.out_per_group, 1, [&](int64_t begin, int64_t end) {
      std::vector<acc_t> sums(taps);
      for (int64_t entry = begin; entry < end; ++entry) {
        const int64_t ci = entry / p.out_per_group, co = entry % p.out_per_group;
        const int64_t channel_out = ci / p.in_per_group * p.out_per_group + co;
        std::fill(sums.begin(), sums.end(), acc_t(0));
        for (int64_t q = 0; q < positions; ++q) {
          const Position<int64_t> at = split_position<int64_t>(q, by_pixels, by_width);
          const acc_t xv = static_cast<acc_t>(x[at.n * xs_n + ci * xs_c + at.h * xs_h + at.w * xs_w]);
          for (int64_t i = 0; i < p.kernel_h; ++i)
            for (int64_t j = 0; j < p.kernel_w; ++j) {
              const int64_t src = grad_weight_source<int64_t, int64_t>(h, w, at, i, j, gs_n, gs_h, gs_w);
              if (src >= 0) sums[i * p.kernel_w + j] += xv * static_cast<acc_t>(gy[src + channel_out * gs_c]);
            }
        }
        for (int64_t t = 0; t < taps; ++t) out[entry * taps + t] = static_cast<scalar_t>(sums[t]);
      }
    });
  });
  if (!gw.is_same(grad_weight)) grad_weight.copy_(gw);
}

}  // namespace gemm_convt
