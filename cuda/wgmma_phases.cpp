// A strided, undilated call on the stride-1 wgmma implicit GEMM (implicit_wgmma.h),
// by output phases: phase (ph, pw) holds the outputs ph + stride_h * m,
// pw + stride_w * n, and the taps landing on them are every stride-th kernel row and
// column from the first that lands (geometry.h's phase_taps). Tap t of a phase reads
// input position m + base - t, so the phase is a stride-1 transposed convolution of the
// whole input with those taps and padding base, written into a strided view of the
// output. No columns and no col2im; phases with the same taps share a packed input and
// a launch (phase_sets).
//
// Small phase planes leave much of the kernel's position tiles empty on top of the repeated
// pack: H200 (session 33, forced implicit GEMM, against the mma.sync kernel) fcn_up (64 x 64
// planes, 97% of the tile positions used) split 2.83 -> 1.93 ms, TF32 1.66 -> 1.28; dcgan
// (8 x 8 planes, 50%) split 0.92 -> 1.27, TF32 0.58 -> 0.67. The rule takes the phases where
// at least kMinTileFill of the computed positions are outputs, between the two.
#include "implicit_wgmma_host.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>
#include <utility>
#include <vector>

#include "gemm_convt/divider.h"
#include "gemm_convt/geometry.h"
#include "implicit_wgmma.h"

namespace gemm_convt {
namespace {

constexpr double kMinTileFill = 0.75;

// Fitted on the H200 (session 41, scripts/fp32_rule_probe.py: eight 3x3 and 4x4 stride-2
// layers of 16 samples, 64-256 channels, 32^2-128^2 inputs, forced onto the phases, phase
// sets on): the tiles' multiply-adds, each call's pack (a pass over the input, written as
// its parts) and the output's bytes, and a cost a call (its launches and the ramp and tail
// of its waves). Split products (float32 without TF32): within 9% on seven layers, 18% low
// on 256->128 32^2; session 38's fit (82e12, 1.37e12, 62 us a phase) was made with one call
// a phase and priced the sets 14-60% over what they ran. TF32 (one product): the split's
// bytes and call terms, its own rate; within 11% on six, 17% low on 128->128 64^2 and 19%
// high on 256->256 3x3 32^2.
constexpr double kPhasesSplitMacsPerSecond = 54e12, kPhasesTf32MacsPerSecond = 136e12;
constexpr double kPhasesBytesPerSecond = 1.40e12, kPhaseCallSeconds = 80e-6;

// One output phase: its place (ph, pw), its taps (first kernel row and column, how many,
// the input position tap 0 reads) and its output's size.
struct Phase {
  int64_t ph, pw;
  PhaseTaps<int64_t> rows, cols;
  int64_t out_h, out_w;
};

// A/B switch: GEMM_CONVT_WGMMA_PHASE_SETS=0 runs each phase as its own call (its own pack
// and launches), read per call.
bool phase_sets_switched_off() {
  const char* v = std::getenv("GEMM_CONVT_WGMMA_PHASE_SETS");
  return v && std::strcmp(v, "0") == 0;
}

// Phases with the same taps as one wgmma call (up to kWgmmaMaxPhases): they read the same
// input rows and columns, shifted by the difference of their paddings, so one packed input
// serves them all. Its call's kernel spans their taps and those shifts, its padding is their
// largest, and each phase starts its window its padding less the smallest below and right of
// the call's (implicit_wgmma_host.h). The phases one pack serves come to the same bytes as
// one phase's, and their blocks share one launch: H200, session 40, fcn_up split at the 64
// MiB cap spent 0.58 ms in 24 packs and ran 1.5 waves a launch, one phase a call.
// applies and tiles: wgmma_call_applies' answer for the call.
struct PhaseSet {
  WgmmaPhaseCall call;
  bool applies = false;
  WgmmaTiles tiles;
};

// One call of phases with the same taps.
PhaseSet phase_set(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                   const std::vector<Phase>& phases, int64_t reserved_bytes) {
  PhaseSet set{WgmmaPhaseCall{WgmmaCall{p, o, 0, 0, {}}, {}}};
  int64_t lo_h = phases[0].rows.base, hi_h = lo_h, lo_w = phases[0].cols.base, hi_w = lo_w;
  int64_t out_h = 0, out_w = 0;
  for (const Phase& f : phases) {
    lo_h = std::min(lo_h, f.rows.base), hi_h = std::max(hi_h, f.rows.base);
    lo_w = std::min(lo_w, f.cols.base), hi_w = std::max(hi_w, f.cols.base);
    out_h = std::max(out_h, f.out_h), out_w = std::max(out_w, f.out_w);
  }
  WgmmaCall& call = set.call.call;  // undilated: a phase's taps are every stride-th kernel row and column
  call.taps_h = phases[0].rows.hits, call.taps_w = phases[0].cols.hits;
  call.p.kernel_h = call.taps_h + hi_h - lo_h, call.p.kernel_w = call.taps_w + hi_w - lo_w;
  call.p.out_h = out_h, call.p.out_w = out_w;
  call.p.out_rows_contiguous = p.out_rows_contiguous && o.stride[1] == 1;  // the views step by the stride
  call.o.stride = {1, 1};
  call.o.padding = {hi_h, hi_w};
  call.o.output_padding = {0, 0};
  call.o.workspace_bytes = std::max<int64_t>(0, o.workspace_bytes - reserved_bytes);
  for (const Phase& f : phases) {
    call.phases.push_back(WgmmaPhaseShape{f.rows.base - lo_h, f.cols.base - lo_w, f.out_h, f.out_w});
    set.call.views.push_back(WgmmaPhaseView{f.ph, f.pw, f.rows.first, f.cols.first});
  }
  set.applies = wgmma_call_applies(call, dtype, &set.tiles);
  return set;
}

// A set's packed rows are a column longer than a phase's alone (the phases' windows start up
// to a column apart), which on small planes can add a position tile a row band (test_cuda's
// FCN-like 8 x 31 phases: 3 tiles a phase against 2). Sets are taken where that adds at most
// this share of the phases' positions (fcn_up: none).
constexpr double kMaxSetExtraPositions = 1.0 / 16;

// The calls: phases grouped by their taps. A group the kernel does not take (its phases'
// packed weights beside one packed row pass a small cap), or that would compute more
// positions than its phases alone by more than kMaxSetExtraPositions, runs one call a phase.
std::vector<PhaseSet> phase_sets(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                                 int64_t reserved_bytes) {
  const Axis<int64_t> h = height_axis<int64_t>(p, o), w = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_stride_h(o.stride[0]), by_stride_w(o.stride[1]);
  // The phases that hold outputs (an output smaller than the stride has fewer).
  const int64_t phases_h = std::min(o.stride[0], p.out_h), phases_w = std::min(o.stride[1], p.out_w);
  const bool share = !phase_sets_switched_off();
  std::vector<std::vector<Phase>> groups;
  for (int64_t ph = 0; ph < phases_h; ++ph)
    for (int64_t pw = 0; pw < phases_w; ++pw) {
      const Phase phase{ph, pw, phase_taps(h, ph, by_stride_h), phase_taps(w, pw, by_stride_w),
                        phase_length(h, ph), phase_length(w, pw)};
      const auto joins = [&](const std::vector<Phase>& group) {
        return share && group[0].rows.hits == phase.rows.hits && group[0].cols.hits == phase.cols.hits &&
               group.size() < size_t(kWgmmaMaxPhases);
      };
      const auto it = std::find_if(groups.begin(), groups.end(), joins);
      if (it == groups.end())
        groups.push_back({phase});
      else
        it->push_back(phase);
    }
  std::vector<PhaseSet> sets;
  for (const std::vector<Phase>& group : groups) {
    PhaseSet set = phase_set(p, o, dtype, group, reserved_bytes);
    if (group.size() == 1) {
      sets.push_back(std::move(set));
      continue;
    }
    std::vector<PhaseSet> singles;
    bool singles_apply = true;
    int64_t single_positions = 0;
    for (const Phase& f : group) {
      singles.push_back(phase_set(p, o, dtype, {f}, reserved_bytes));
      singles_apply = singles_apply && singles.back().applies;
      single_positions += singles.back().tiles.positions;
    }
    const bool take_set =
        set.applies && (!singles_apply || double(set.tiles.positions) <=
                                              (1 + kMaxSetExtraPositions) * double(single_positions));
    if (take_set)
      sets.push_back(std::move(set));
    else
      for (PhaseSet& single : singles) sets.push_back(std::move(single));
  }
  return sets;
}

}  // namespace

WgmmaPhases wgmma_phases(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                         int64_t reserved_bytes) {
  // Stride 1 is implicit_wgmma_cuda itself; the kernel is float32 alone.
  if ((o.stride[0] == 1 && o.stride[1] == 1) || dtype != at::kFloat) return {};
  // Undilated (a phase's taps then read consecutive input positions) and every phase hit
  // by at least one tap (kernel >= stride), so each phase is a plain stride-1 call.
  if (o.dilation[0] != 1 || o.dilation[1] != 1 || p.kernel_h < o.stride[0] || p.kernel_w < o.stride[1])
    return {};
  double outputs = 0, computed = 0;  // one sample's, over the phases
  WgmmaPhases phases;
  phases.split = !o.allow_tf32;
  for (PhaseSet& set : phase_sets(p, o, dtype, reserved_bytes)) {
    if (!set.applies) return {};
    for (const WgmmaPhaseShape& f : set.call.call.phases) outputs += double(f.out_h * f.out_w);
    computed += double(set.tiles.positions);
    phases.macs += set.tiles.macs;
    phases.calls.push_back(std::move(set.call));
  }
  phases.apply = outputs >= kMinTileFill * computed;
  return phases;
}

double wgmma_phases_seconds(const Problem& p, const WgmmaPhases& phases) {
  if (!phases.apply) return std::numeric_limits<double>::infinity();
  const double calls = double(phases.calls.size());
  const double input_bytes = 4.0 * double(p.batch) * double(p.in_channels) * double(p.in_pixels());
  const double output_bytes = 4.0 * double(p.batch) * double(p.out_channels()) * double(p.out_h * p.out_w);
  // Each call's pack reads the input and writes its parts (two split, one TF32).
  const double pack_passes = phases.split ? 3.0 : 2.0;
  return phases.macs / (phases.split ? kPhasesSplitMacsPerSecond : kPhasesTf32MacsPerSecond) +
         (output_bytes + pack_passes * input_bytes * calls) / kPhasesBytesPerSecond + calls * kPhaseCallSeconds;
}

void wgmma_phases_cuda(const Problem& p, const ConvTranspose2dOptions& o, const WgmmaPhases& phases,
                       const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out,
                       int* redo) {
  TORCH_INTERNAL_ASSERT(phases.apply, "wgmma_phases_cuda: the phases do not apply");
  // Phase (ph, pw)'s views: the weight from kernel row first_h and column first_w, the output
  // from row ph and column pw, each stepping by the stride.
  const float* weight_data = weight.data_ptr<float>();
  float* out_data = out.data_ptr<float>();
  WgmmaViews views;
  for (int k = 0; k < 4; ++k) {
    const int64_t step = k < 2 ? 1 : o.stride[size_t(k - 2)];
    views.weight_strides[k] = weight.stride(k) * step, views.out_strides[k] = out.stride(k) * step;
  }
  for (const WgmmaPhaseCall& call : phases.calls) {
    views.weights.clear(), views.outs.clear();
    for (const WgmmaPhaseView& f : call.views) {
      views.weights.push_back(weight_data + f.first_h * weight.stride(2) + f.first_w * weight.stride(3));
      views.outs.push_back(out_data + f.ph * out.stride(2) + f.pw * out.stride(3));
    }
    wgmma_call_cuda(call.call, input, views, bias, redo);
  }
}

}  // namespace gemm_convt
