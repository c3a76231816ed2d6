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
#include <limits>

#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"

namespace gemm_convt {
namespace {

constexpr double kMinTileFill = 0.75;

// Float32 without TF32 (split products), fitted on the H200 (session 38,
// scripts/fp32_rule_probe.py: seven 3x3 and 4x4 stride-2 layers of 16 samples,
// 64-256 channels, 32^2-128^2 inputs, forced onto the phases; within 6% of six,
// 12% of the seventh): the tiles' multiply-adds, the packs' and the output's
// bytes, and a cost a phase (its launches, packs and the ramp and tail of its
// waves).
constexpr double kPhasesSplitMacsPerSecond = 82e12, kPhasesBytesPerSecond = 1.37e12;
constexpr double kPhaseSeconds = 62e-6;

// One output phase as a stride-1 call, sizes only: its taps' first kernel row and column,
// its problem and options.
struct PhaseShape {
  PhaseTaps<int64_t> rows, cols;
  Problem p;
  ConvTranspose2dOptions o;
};

PhaseShape phase_shape(const Problem& p, const ConvTranspose2dOptions& o, int64_t ph, int64_t pw,
                       int64_t reserved_bytes) {
  const Axis<int64_t> h = height_axis<int64_t>(p, o), w = width_axis<int64_t>(p, o);
  const PhaseTaps<int64_t> rows = phase_taps(h, ph, Divider<int64_t>(o.stride[0]));
  const PhaseTaps<int64_t> cols = phase_taps(w, pw, Divider<int64_t>(o.stride[1]));
  ConvTranspose2dOptions po = o;
  po.stride = {1, 1};
  po.padding = {rows.base, cols.base};
  po.output_padding = {0, 0};
  po.workspace_bytes = std::max<int64_t>(0, o.workspace_bytes - reserved_bytes);
  Problem pp = p;  // undilated: a phase's taps are every stride-th kernel row and column
  pp.kernel_h = rows.hits, pp.kernel_w = cols.hits;
  pp.out_h = phase_length(h, ph), pp.out_w = phase_length(w, pw);
  pp.out_rows_contiguous = p.out_rows_contiguous && o.stride[1] == 1;  // the view steps by the stride
  return PhaseShape{rows, cols, pp, po};
}

// The same call with its weight and output views.
struct PhaseCall {
  PhaseShape s;
  at::Tensor weight, out;
};

PhaseCall phase_call(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& weight,
                     const at::Tensor& out, int64_t ph, int64_t pw, int64_t reserved_bytes) {
  const PhaseShape s = phase_shape(p, o, ph, pw, reserved_bytes);
  const at::Tensor phase_weight =
      weight.slice(2, s.rows.first, p.kernel_h, o.stride[0]).slice(3, s.cols.first, p.kernel_w, o.stride[1]);
  const at::Tensor phase_out = out.slice(2, ph, p.out_h, o.stride[0]).slice(3, pw, p.out_w, o.stride[1]);
  return PhaseCall{s, phase_weight, phase_out};
}

// The phases that hold outputs (an output smaller than the stride has fewer).
std::array<int64_t, 2> phase_counts(const Problem& p, const ConvTranspose2dOptions& o) {
  return {std::min(o.stride[0], p.out_h), std::min(o.stride[1], p.out_w)};
}

// One walk over the phases: whether they apply, and their tiles' multiply-adds.
struct PhasesWork {
  bool apply = false;
  double macs = 0;
};

PhasesWork phases_work(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                       int64_t reserved_bytes) {
  // Stride 1 is implicit_wgmma_cuda itself; the kernel is float32 alone.
  if ((o.stride[0] == 1 && o.stride[1] == 1) || dtype != at::kFloat) return {};
  // Undilated (a phase's taps then read consecutive input positions) and every phase hit
  // by at least one tap (kernel >= stride), so each phase is a plain stride-1 call.
  if (o.dilation[0] != 1 || o.dilation[1] != 1 || p.kernel_h < o.stride[0] || p.kernel_w < o.stride[1])
    return {};
  const auto counts = phase_counts(p, o);
  double outputs = 0, computed = 0;  // one sample's, over the phases
  PhasesWork work;
  for (int64_t ph = 0; ph < counts[0]; ++ph)
    for (int64_t pw = 0; pw < counts[1]; ++pw) {
      const PhaseShape s = phase_shape(p, o, ph, pw, reserved_bytes);
      WgmmaTiles tiles;
      if (!implicit_wgmma_applies(s.p, s.o, dtype, &tiles)) return {};
      outputs += double(s.p.out_h * s.p.out_w);
      computed += double(tiles.positions);
      work.macs += tiles.macs;
    }
  work.apply = outputs >= kMinTileFill * computed;
  return work;
}

}  // namespace

bool wgmma_phases_apply(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                        int64_t reserved_bytes) {
  return phases_work(p, o, dtype, reserved_bytes).apply;
}

double wgmma_phases_seconds(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                            int64_t reserved_bytes) {
  const PhasesWork work = phases_work(p, o, dtype, reserved_bytes);
  if (!work.apply) return std::numeric_limits<double>::infinity();
  const auto counts = phase_counts(p, o);
  const double phases = double(counts[0] * counts[1]);
  const double input_bytes = 4.0 * double(p.batch) * double(p.in_channels) * double(p.in_pixels());
  const double output_bytes = 4.0 * double(p.batch) * double(p.out_channels()) * double(p.out_h * p.out_w);
  // Each phase's pack reads the input and writes its two parts.
  return work.macs / kPhasesSplitMacsPerSecond + (output_bytes + 3.0 * input_bytes * phases) / kPhasesBytesPerSecond +
         phases * kPhaseSeconds;
}

void wgmma_phases_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                       const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo,
                       int64_t reserved_bytes) {
  const auto counts = phase_counts(p, o);
  for (int64_t ph = 0; ph < counts[0]; ++ph)
    for (int64_t pw = 0; pw < counts[1]; ++pw) {
      PhaseCall c = phase_call(p, o, weight, out, ph, pw, reserved_bytes);
      implicit_wgmma_cuda(c.s.p, c.s.o, input, c.weight, bias, c.out, redo);
    }
}

}  // namespace gemm_convt
