// A strided, undilated call on the stride-1 wgmma implicit GEMM (implicit_wgmma.h),
// one output phase at a time: phase (ph, pw) holds the outputs ph + stride_h * m,
// pw + stride_w * n, and the taps landing on them are every stride-th kernel row and
// column from the first that lands (geometry.h's phase_taps). Tap t of a phase reads
// input position m + base - t, so the phase is a stride-1 transposed convolution of the
// whole input with those taps and padding base, written into a strided view of the
// output. No columns and no col2im; each phase packs the input again.
//
// Small phase planes leave much of the kernel's position tiles empty on top of the repeated
// pack: H200 (session 33, forced implicit GEMM, against the mma.sync kernel) fcn_up (64 x 64
// planes, 97% of the tile positions used) split 2.83 -> 1.93 ms, TF32 1.66 -> 1.28; dcgan
// (8 x 8 planes, 50%) split 0.92 -> 1.27, TF32 0.58 -> 0.67. The rule takes the phases where
// at least kMinTileFill of the computed positions are outputs, between the two.
#include "implicit_wgmma_host.h"

#include <algorithm>
#include <array>

#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"

namespace gemm_convt {
namespace {

constexpr double kMinTileFill = 0.75;

// One output phase as a stride-1 call: its problem, options, weight and output views.
struct PhaseCall {
  Problem p;
  ConvTranspose2dOptions o;
  at::Tensor weight, out;
};

PhaseCall phase_call(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                     const at::Tensor& weight, const at::Tensor& out, int64_t ph, int64_t pw,
                     int64_t reserved_bytes) {
  const PhaseTaps<int64_t> rows = phase_taps(height_axis<int64_t>(p, o), ph, Divider<int64_t>(o.stride[0]));
  const PhaseTaps<int64_t> cols = phase_taps(width_axis<int64_t>(p, o), pw, Divider<int64_t>(o.stride[1]));
  const at::Tensor phase_weight =
      weight.slice(2, rows.first, p.kernel_h, o.stride[0]).slice(3, cols.first, p.kernel_w, o.stride[1]);
  const at::Tensor phase_out = out.slice(2, ph, p.out_h, o.stride[0]).slice(3, pw, p.out_w, o.stride[1]);
  ConvTranspose2dOptions po = o;
  po.stride = {1, 1};
  po.padding = {rows.base, cols.base};
  po.output_padding = {0, 0};
  po.workspace_bytes = std::max<int64_t>(0, o.workspace_bytes - reserved_bytes);
  Problem pp(input, phase_weight, po);
  pp.out_h = phase_out.size(2), pp.out_w = phase_out.size(3);  // the view's, not the formula's
  return PhaseCall{pp, po, phase_weight, phase_out};
}

// The phases that hold outputs (an output smaller than the stride has fewer).
std::array<int64_t, 2> phase_counts(const Problem& p, const ConvTranspose2dOptions& o) {
  return {std::min(o.stride[0], p.out_h), std::min(o.stride[1], p.out_w)};
}

}  // namespace

bool wgmma_phases_apply(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                        const at::Tensor& weight, const at::Tensor& out, int64_t reserved_bytes) {
  // Stride 1 is implicit_wgmma_cuda itself; the kernel is float32 alone (checked before
  // any phase's views are made).
  if ((o.stride[0] == 1 && o.stride[1] == 1) || input.scalar_type() != at::kFloat) return false;
  // Undilated (a phase's taps then read consecutive input positions) and every phase hit
  // by at least one tap (kernel >= stride), so each phase is a plain stride-1 call.
  if (o.dilation[0] != 1 || o.dilation[1] != 1 || p.kernel_h < o.stride[0] || p.kernel_w < o.stride[1])
    return false;
  const auto counts = phase_counts(p, o);
  double outputs = 0, computed = 0;  // one sample's, over the phases
  for (int64_t ph = 0; ph < counts[0]; ++ph)
    for (int64_t pw = 0; pw < counts[1]; ++pw) {
      const PhaseCall c = phase_call(p, o, input, weight, out, ph, pw, reserved_bytes);
      if (!implicit_wgmma_applies(c.p, c.o, input.scalar_type())) return false;
      outputs += double(c.p.out_h * c.p.out_w);
      computed += double(implicit_wgmma_positions(c.p, c.o));
    }
  return outputs >= kMinTileFill * computed;
}

void wgmma_phases_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                       const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo,
                       int64_t reserved_bytes) {
  const auto counts = phase_counts(p, o);
  for (int64_t ph = 0; ph < counts[0]; ++ph)
    for (int64_t pw = 0; pw < counts[1]; ++pw) {
      PhaseCall c = phase_call(p, o, input, weight, out, ph, pw, reserved_bytes);
      implicit_wgmma_cuda(c.p, c.o, input, c.weight, bias, c.out, redo);
    }
}

}  // namespace gemm_convt
