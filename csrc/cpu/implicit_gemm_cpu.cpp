// The implicit GEMM's walk on the CPU: per output row and width phase, the row
// taps and the phase's width taps (include/gemm_convt/implicit.h, as the CUDA
// kernel walks them), each tap's input columns contracted with the weight in
// the accumulation type. Used on the CPU only when asked
// (set_implicit_gemm(True)): it is here so that CI runs the kernel's index math.

#include <algorithm>
#include <vector>

#include "../conv_transpose2d.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/implicit.h"
#include "output_plane.h"

namespace gemm_convt {
namespace {

// One plane, row by row and phase by phase.
template <typename scalar_t>
void implicit_plane(const Problem& p, const ConvTranspose2dOptions& o,
                    const OutputPlane<scalar_t>& v) {
  using acc_t = typename OutputPlane<scalar_t>::acc_t;
  const Axis<int64_t> h = height_axis<int64_t>(p, o), w = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_stride_h(o.stride[0]), by_stride_w(o.stride[1]);
  std::vector<acc_t> acc;
  for (int64_t oh = 0; oh < p.out_h; ++oh) {
    for (int64_t phase = 0; phase < std::min(w.stride, w.out_size); ++phase) {
      const int64_t count = phase_length(w, phase);
      const PhaseTaps<int64_t> pt = phase_taps(w, phase, by_stride_w);
      acc.assign(size_t(count), v.bias);
      for (RowTap<int64_t> rt = first_row_tap(h, oh, by_stride_h); pt.hits > 0 && rt.i < h.kernel;
           rt = next_row_tap(h, rt)) {
        for (int64_t t = 0; t < pt.hits; ++t) {
          const int64_t j = pt.first + t * w.hit_step, col0 = pt.base - t * w.hit_q_step;
          // Positions whose input column lies inside the input: col0 + m in [0, in_size).
          const int64_t m_begin = std::max<int64_t>(0, -col0);
          const int64_t m_end = std::min(count, w.in_size - col0);
          for (int64_t ci = 0; ci < p.in_per_group; ++ci) {
            const acc_t wv = static_cast<acc_t>(v.w[ci * v.w_ci + rt.i * p.kernel_w + j]);
            const scalar_t* xs = v.x + ci * v.x_sc + rt.q * v.x_sh;
            for (int64_t m = m_begin; m < m_end; ++m)
              acc[m] += static_cast<acc_t>(xs[(col0 + m) * v.x_sw]) * wv;
          }
        }
      }
      for (int64_t m = 0; m < count; ++m)
        v.out[oh * v.o_sh + (phase + m * w.stride) * v.o_sw] = static_cast<scalar_t>(acc[m]);
    }
  }
}

}  // namespace

void implicit_gemm_cpu(const Problem& p, const ConvTranspose2dOptions& o,
                       const at::Tensor& input, const at::Tensor& weight,
                       const at::Tensor& bias, at::Tensor& out) {
  for_each_output_plane(p, input, weight, bias, out,
                        [&](const auto& v) { implicit_plane(p, o, v); });
}

}  // namespace gemm_convt
