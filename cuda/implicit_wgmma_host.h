#pragma once

// The wgmma implicit GEMM (implicit_wgmma.h) as implicit_gemm_cuda calls it.

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// A/B switch for every wgmma path (GEMM_CONVT_WGMMA=0: the mma.sync kernels),
// read per call.
bool wgmma_switched_off();

// What its tiles compute, where it applies: one sample's positions (its output positions,
// the kw - 1 extra columns a packed row holds, and the last tile's tail), and the call's
// multiply-adds (padded channels, every tap, every computed position).
struct WgmmaTiles {
  int64_t positions = 0;
  double macs = 0;
};

// float32, stride 1, compute capability 9.0, at least 48 output channels per
// group, a window within the staged span, one output row's packed input within
// the workspace cap and, unless the implicit GEMM is forced, enough
// multiply-adds per packed byte (GEMM_CONVT_WGMMA=0 turns it off: A/B runs).
// Where it applies and tiles is given, the tiles' work is written there.
bool implicit_wgmma_applies(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                            WgmmaTiles* tiles = nullptr);

// Every output of the call; split (TF32 not allowed) flags an infinite or NaN
// output in redo for implicit_gemm_cuda's guarded rerun.
void implicit_wgmma_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                         const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo);

// A strided call as one stride-1 wgmma call per output phase (wgmma_phases.cpp): float32,
// undilated, kernel >= stride, implicit_wgmma_applies on every phase's stride-1 call, and
// phase planes that fill their position tiles. reserved_bytes: workspace the caller already
// holds (the guarded rerun's packed weight), taken off each phase's cap.
bool wgmma_phases_apply(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                        int64_t reserved_bytes);
// Their time without TF32 (split products) where they apply, else infinity (one walk over
// the phases): implicit_gemm_applies' rule.
double wgmma_phases_seconds(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                            int64_t reserved_bytes);
void wgmma_phases_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                       const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo,
                       int64_t reserved_bytes);

}  // namespace gemm_convt
