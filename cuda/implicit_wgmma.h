#pragma once

// The implicit GEMM on Hopper's warpgroup MMA (wgmma, sm_90a), float32 as one
// TF32 product or as three (split: float32-class accuracy). Stride 1 only.
// A block's producer warpgroup stages each step's input window from the input
// itself, split into its parts, and one bulk copy of the packed weight:
// [group][i][16-channel block][64-channel tile][j][part][core-matrix tile of
// 64 output x 16 input channels]. Parts: TF32 high (rounded to nearest) and,
// split, the float32 remainder. The consumer warpgroups only issue wgmma.
// Declarations shared by the sm_90a kernels (implicit_wgmma_kernels.cu, built
// for sm_90a alone) and the host code; no ATen here.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace gemm_convt {

constexpr int kWgmmaTileM = 128;  // output positions of one row per block: two warpgroups of 64
constexpr int kWgmmaTileN = 64;   // output channels per block
constexpr int kWgmmaBlockK = 16;  // input channels per step

// Stride-1 geometry: samples n0 .. n0 + samples - 1 (the grid's y axis holds
// samples x groups x channel tiles).
struct WgmmaConv {
  int in_h, in_w, out_h, out_w, kh, kw, pad_h, pad_w, dil_h, dil_w;
  int cin_g, cout_g, groups, blocks, co_tiles, parts;  // blocks: 16-channel blocks per group
  int stages;                                          // shared-memory buffers: 3, or 2 where 3 do not fit
  int m_tiles, a_rows;  // position tiles per row; a step's window: positions plus the width taps' reach
  int n0, samples;
  int probe_no_fence;  // PROBE ONLY (GEMM_CONVT_WGMMA_PROBE=nofence): timing without the proxy fence
  int64_t x_sn, x_sc, x_sh, x_sw;  // input strides (elements)
  int64_t w_si, w_so, w_sh, w_sw;  // weight strides: input channel, output channel, kh, kw
  int64_t o_sn, o_sc, o_sh, o_sw;  // output strides
};

// Dynamic shared memory of the conv kernel (its buffers).
size_t wgmma_smem_bytes(const WgmmaConv& c);
// Floats of the packed weight.
int64_t wgmma_packed_weight_floats(const WgmmaConv& c);

// Each returns the launch's cudaError_t (cudaSuccess, or the configuration error).
cudaError_t launch_wgmma_pack_weight(const WgmmaConv& c, const float* weight, float* packed,
                                     cudaStream_t stream);
// redo (split only): set to 1 where an output is infinite or NaN, for the guarded rerun.
cudaError_t launch_wgmma_conv(const WgmmaConv& c, const float* input, const float* packed_weight,
                              const float* bias, float* out, int* redo, cudaStream_t stream);

}  // namespace gemm_convt
