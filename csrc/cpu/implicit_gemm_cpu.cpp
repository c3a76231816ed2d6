// The implicit GEMM's walk on the CPU: per output row and width phase, the row
// taps (or, for short rows, the row phase's taps) and the phase's width taps
// (include/gemm_convt/implicit.h, as the CUDA kernel walks them), each tap's
// input columns contracted with the weight in the accumulation type. Used on
// the CPU only when asked (set_implicit_gemm(True)): it is here so that CI runs
// the kernel's index math.

#include <algorithm>
#include <vector>

#include "../conv_transpose2d.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/implicit.h"
#include "output_plane.h"

namespace gemm_convt {
namespace {

// One output row's phase: positions ow = phase + m * stride, each tap's input
// columns contracted with the weight in the accumulation type. The row is
// phase row r of its landing row taps (r = 0 for a row's own taps): tap t
// reads input row band_input_row(taps[t], r); rows outside the input add nothing.
template <typename scalar_t>
void implicit_row_phase(const Problem& p, const Axis<int64_t>& h, const Axis<int64_t>& w,
                        const OutputPlane<scalar_t>& v, int64_t oh, int64_t phase,
                        const std::vector<RowTap<int64_t>>& taps, int64_t r,
                        std::vector<typename OutputPlane<scalar_t>::acc_t>& acc) {
  using acc_t = typename OutputPlane<scalar_t>::acc_t;
  const Divider<int64_t> by_stride_w(w.stride);
  const int64_t count = phase_length(w, phase);
  const PhaseTaps<int64_t> pt = phase_taps(w, phase, by_stride_w);
  acc.assign(size_t(count), v.bias);
  for (size_t rt = 0; pt.hits > 0 && rt < taps.size(); ++rt) {
    const int64_t q = band_input_row(taps[rt], r), i = taps[rt].i;
    if (q < 0 || q >= h.in_size) continue;
    for (int64_t t = 0; t < pt.hits; ++t) {
      const int64_t j = pt.first + t * w.hit_step, col0 = pt.base - t * w.hit_q_step;
      // Positions whose input column lies inside the input: col0 + m in [0, in_size).
      const int64_t m_begin = std::max<int64_t>(0, -col0);
      const int64_t m_end = std::min(count, w.in_size - col0);
      for (int64_t ci = 0; ci < p.in_per_group; ++ci) {
        const acc_t wv = static_cast<acc_t>(v.w[ci * v.w_ci + i * p.kernel_w + j]);
        const scalar_t* xs = v.x + ci * v.x_sc + q * v.x_sh;
        for (int64_t m = m_begin; m < m_end; ++m)
          acc[m] += static_cast<acc_t>(xs[(col0 + m) * v.x_sw]) * wv;
      }
    }
  }
  for (int64_t m = 0; m < count; ++m)
    v.out[oh * v.o_sh + (phase + m * w.stride) * v.o_sw] = static_cast<scalar_t>(acc[m]);
}

// One plane, phase by phase. Short rows (band_rows > 1) walk as the kernel's
// bands do: every landing tap of a row phase (first_band_tap, next_band_tap),
// row r reading band_input_row; other rows walk their own landing row taps.
template <typename scalar_t>
void implicit_plane(const Problem& p, const ConvTranspose2dOptions& o,
                    const OutputPlane<scalar_t>& v) {
  const Axis<int64_t> h = height_axis<int64_t>(p, o), w = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_stride_h(o.stride[0]);
  const int64_t width_phases = std::min(w.stride, w.out_size);
  std::vector<typename OutputPlane<scalar_t>::acc_t> acc;
  if (band_rows(w) > 1) {
    for (int64_t ph_h = 0; ph_h < std::min(h.stride, h.out_size); ++ph_h) {
      std::vector<RowTap<int64_t>> taps;  // every landing tap of the row phase
      for (RowTap<int64_t> t = first_band_tap(h, ph_h, by_stride_h); t.i < h.kernel; t = next_band_tap(h, t))
        taps.push_back(t);
      for (int64_t r = 0; r < phase_length(h, ph_h); ++r)
        for (int64_t phase = 0; phase < width_phases; ++phase)
          implicit_row_phase(p, h, w, v, ph_h + r * h.stride, phase, taps, r, acc);
    }
    return;
  }
  for (int64_t oh = 0; oh < p.out_h; ++oh) {
    std::vector<RowTap<int64_t>> taps;
    for (RowTap<int64_t> rt = first_row_tap(h, oh, by_stride_h); rt.i < h.kernel; rt = next_row_tap(h, rt))
      taps.push_back(rt);
    for (int64_t phase = 0; phase < width_phases; ++phase)
      implicit_row_phase(p, h, w, v, oh, phase, taps, int64_t(0), acc);
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
