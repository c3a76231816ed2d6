#pragma once

// The wgmma implicit GEMM (implicit_wgmma.h) as implicit_gemm_cuda calls it.

#include <ATen/ATen.h>

#include <vector>

#include "../csrc/problem.h"

namespace gemm_convt {

// A/B switch for every wgmma path (GEMM_CONVT_WGMMA=0: the mma.sync kernels),
// read per call.
bool wgmma_switched_off();

// What its tiles compute, where it applies: one sample's positions over the phases (each
// phase's output rows of wp packed columns, and the last tile's tail), and the call's
// multiply-adds (padded channels, every tap, every computed position).
struct WgmmaTiles {
  int64_t positions = 0;
  double macs = 0;
};

// A wgmma call, sizes only: p and o (stride 1) are the packed input's call, whose output is
// the largest phase's and whose kernel spans every phase's taps and their starts; each phase
// takes taps_h x taps_w of those taps from its start (start_h rows, start_w columns) and
// writes out_h x out_w outputs. A stride-1 call is one phase of all its taps
// (stride1_wgmma_call); a strided call's phases with the same taps are one
// (wgmma_phases.cpp), sharing a pack and a launch. o.workspace_bytes is the call's own
// cap: its packed weight and input.
struct WgmmaPhaseShape {
  int64_t start_h = 0, start_w = 0, out_h = 0, out_w = 0;
};
struct WgmmaCall {
  Problem p;
  ConvTranspose2dOptions o;
  int64_t taps_h = 0, taps_w = 0;
  std::vector<WgmmaPhaseShape> phases;
};
// reserved_bytes: workspace the caller already holds, off the call's cap.
WgmmaCall stride1_wgmma_call(const Problem& p, const ConvTranspose2dOptions& o, int64_t reserved_bytes);

// Whether the kernel takes the call (as implicit_wgmma_applies says for one), and its tiles'
// work, over the phases, where it does and tiles is given.
bool wgmma_call_applies(const WgmmaCall& call, at::ScalarType dtype, WgmmaTiles* tiles = nullptr);
// A call's weight and output as strided views, one pair a phase with the same strides:
// weights[k] phase k's taps [Cin, Cout / groups, taps_h, taps_w], outs[k] its outputs [N,
// Cout, out_h, out_w]. Pointers and strides rather than tensors: a view a phase as ATen
// slices cost host time before the first launch (session 41).
struct WgmmaViews {
  std::vector<const float*> weights;
  std::vector<float*> outs;
  int64_t weight_strides[4], out_strides[4];
};
// Every phase's outputs.
void wgmma_call_cuda(const WgmmaCall& call, const at::Tensor& input, const WgmmaViews& views, const at::Tensor& bias,
                     int* redo);

// float32, stride 1, compute capability 9.0, at least 48 output channels per
// group, a window within the staged span, one output row's packed input within
// the workspace cap and, unless the implicit GEMM is forced, enough
// multiply-adds per packed byte (GEMM_CONVT_WGMMA=0 turns it off: A/B runs).
// Where it applies and tiles is given, the tiles' work is written there.
// reserved_bytes: workspace the caller already holds (the guarded rerun's packed
// weight), taken off the cap.
bool implicit_wgmma_applies(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                            int64_t reserved_bytes, WgmmaTiles* tiles = nullptr);

// Every output of the call; split (TF32 not allowed) flags an infinite or NaN
// output in redo for implicit_gemm_cuda's guarded rerun.
void implicit_wgmma_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                         const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo,
                         int64_t reserved_bytes);

// A strided call as stride-1 wgmma calls by output phase (wgmma_phases.cpp), planned once:
// each call takes phases with the same taps (ph, pw: the phase's place; first_h, first_w:
// its first kernel row and column, for the views of the weight and output). They apply to
// float32, undilated, kernel >= stride, wgmma_call_applies on every call, and phase planes
// that fill their position tiles. reserved_bytes as above, taken off each call's cap.
struct WgmmaPhaseView {
  int64_t ph, pw, first_h, first_w;
};
struct WgmmaPhaseCall {
  WgmmaCall call;
  std::vector<WgmmaPhaseView> views;  // one a phase, in call.phases' order
};
struct WgmmaPhases {
  bool apply = false;
  bool split = false;  // float32 without TF32: three products a tile
  double macs = 0;  // the tiles' multiply-adds over every call
  std::vector<WgmmaPhaseCall> calls;
};
WgmmaPhases wgmma_phases(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                         int64_t reserved_bytes);
// Their time (split products, or TF32) where they apply, else infinity:
// implicit_gemm_applies' rule.
double wgmma_phases_seconds(const Problem& p, const WgmmaPhases& phases);
void wgmma_phases_cuda(const Problem& p, const ConvTranspose2dOptions& o, const WgmmaPhases& phases,
                       const at::Tensor& input, const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out,
                       int* redo);

}  // namespace gemm_convt
