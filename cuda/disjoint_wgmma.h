#pragma once

// The disjoint-taps kernel (disjoint_taps.cuh) on Hopper's warpgroup MMA
// (wgmma, sm_90a) for float32 without TF32 (three TF32 products), where each
// input pixel's taps tile its stride cell exactly (kernel == stride, dilation
// 1: U-Net's 2x2 stride 2) and NCHW rows lie back to back. GEMM M is the input
// pixels of one plane (sample, group), N the (output channel, tap) columns, K
// the input channels:
// - A (the input) comes unpacked: one bulk copy per channel row of a tile,
//   fragments loaded into registers and split there;
// - B (the weight) is packed once per call: [group][16-channel block][column
//   tile][part][core-matrix tile of 128 columns x 16 channels], the parts
//   high, cross and low as ptx.cuh's tf32_parts (an inf or NaN reaches the sum
//   through high x high alone, as torch's would: no rerun).
// TF32 (one product) ran no faster than the mma.sync kernel (unet_up 561 against
// 536 us, H100, session 28) and stays there.
// Declarations shared by the sm_90a kernels (disjoint_wgmma_kernels.cu) and
// the host code; no ATen here.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

#include "gemm_convt/divider.h"

namespace gemm_convt {

constexpr int kDwTileM = 128;  // input pixels per block: two warpgroups of 64
constexpr int kDwTileN = 128;  // product columns per block
constexpr int kDwBlockK = 16;  // input channels per step

struct DisjointWgmma {
  int pixels, in_w;  // input pixels per plane, row length
  int cin_g, cout_g, groups, kw, taps, s_h, s_w, pad_h, pad_w, out_h, out_w;
  int blocks, n_tiles, m_tiles;  // blocks: 16-channel blocks per group
  int samples;
  bool pairs;                      // two adjacent width taps stored as one float2
  int64_t x_sn, x_sc;              // input strides (pixels at stride 1, rows back to back)
  int64_t w_si, w_so, w_sh, w_sw;  // weight strides: input channel, output channel, kh, kw
  int64_t o_sn, o_sc, o_sh, o_sw;  // output strides
  // Divisions by multiply-high (a column's channel and tap, a pixel's row).
  Divider<int32_t> by_taps, by_kw, by_in_w;
};

// Dynamic shared memory of the kernel, and floats of the packed weight.
size_t disjoint_wgmma_smem_bytes(const DisjointWgmma& d);
int64_t disjoint_wgmma_weight_floats(const DisjointWgmma& d);

// Each returns the launch's cudaError_t (cudaNotSupported where the kernels
// were built empty: wgmma_kernels_built()).
cudaError_t launch_disjoint_wgmma_pack_weight(const DisjointWgmma& d, const float* weight, float* packed,
                                              cudaStream_t stream);
// Every output a cell reaches; the rest (bias only) is the caller's.
cudaError_t launch_disjoint_wgmma(const DisjointWgmma& d, const float* input, const float* packed_weight,
                                  const float* bias, float* out, cudaStream_t stream);

}  // namespace gemm_convt
