#pragma once

// The implicit GEMM on Hopper's warpgroup MMA (wgmma, sm_90a), float32 as one
// TF32 product or as three (split: float32-class accuracy). Stride 1 only.
// Both operands come packed, so that a step's staging is a few bulk copies
// issued by one thread:
// - the input, per chunk (samples x a band of output rows): [sample][group]
//   [16-channel block][part][channel quad][plane column][4 channels]. A plane is
//   the band's input rows, from kh - 1 dilated rows above it (zero rows where
//   they miss the input), each wp columns long, then a zero tail: position f of
//   the band (row f / wp, column f % wp) reads plane column start + f +
//   (taps_h - 1 - i) dil_h wp + (taps_w - 1 - j) dil_w for its phase's tap (i, j)
//   (implicit_wgmma.cpp);
// - the weight: [phase][group][i][block][64-channel tile][j][part][core-matrix
//   tile of 64 output x 16 input channels].
// Parts: TF32 high (rounded to nearest) and, split, the float32 remainder.
// Declarations shared by the sm_90a kernels (implicit_wgmma_kernels.cu, built
// for sm_90a alone) and the host code; no ATen here.

#include <cuda_runtime.h>

#include <cstddef>
#include <cstdint>

namespace gemm_convt {

// Output positions per block (rows of wp): two or four consumer warpgroups of
// 64. The host picks 128 where two blocks share an SM's shared memory, else 256
// (one block an SM): an SM then runs at least four consumer warpgroups either way
// (three blocks of 128 where they fit: fcn_up's split phases, session 41).
// Measured (H100, session 31): 256 against 128 at one block an SM, float32
// split kb65 / kb69 -11% / -12%; at two blocks (TF32, split kb57) +3-7%.
constexpr int kWgmmaTileMSmall = 128;
constexpr int kWgmmaTileMLarge = 256;
constexpr int kWgmmaStaticSmem = 1024;  // the conv kernel's static shared memory, with margin
// The widest spread of width-tap shifts ((kw - 1) dil_w columns) a window takes.
constexpr int kWgmmaMaxShift = 40;
constexpr int kWgmmaTileN = 64;   // output channels per block
constexpr int kWgmmaBlockK = 16;  // input channels per step

// Output phases a launch takes (wgmma_phases.cpp: a strided call's phases with the same taps
// share one packed input and one launch).
constexpr int kWgmmaMaxPhases = 16;

// One output phase of a launch: its taps' window starts `start` plane columns past the
// call's (start_h rows and start_w columns: the phase's padding less the smallest), its
// outputs are out_h x out_w at out_offset elements from the launch's output pointer, its
// taps at weight_source elements from the call's weight pointer, and its packed weight at
// weight_offset floats.
struct WgmmaPhase {
  int start, out_h, out_w;
  int64_t out_offset, weight_source, weight_offset;
};

// One chunk's geometry (stride 1): output rows row0 .. row0 + rows - 1 of
// samples n0 .. n0 + samples - 1, reading input rows q0 .. q0 + q_rows - 1
// (q0 may be negative: zero rows). kh x kw is the packed input's kernel (the
// pack and the planes' sizes); each phase takes taps_h x taps_w of it, from its
// start (a stride-1 call: one phase, all the taps).
struct WgmmaConv {
  int in_h, in_w, out_w, kh, kw, pad_h, pad_w, dil_h, dil_w;
  int taps_h, taps_w;
  int cin_g, cout_g, groups, blocks, co_tiles, parts;  // blocks: 16-channel blocks per group
  int tile_m;          // positions a block: kWgmmaTileMSmall or kWgmmaTileMLarge
  int a_rows, wp;      // staged window rows; packed row length (out_w + (kw - 1) dil_w)
  int m_tiles, plane;  // position tiles per sample band; packed columns per plane
  int row0, rows, q0, q_rows, n0, samples;
  int64_t x_sn, x_sc, x_sh, x_sw;  // input strides (elements), for the pack
  int64_t w_si, w_so, w_sh, w_sw;  // weight strides: input channel, output channel, kh, kw
  int64_t o_sn, o_sc, o_sh, o_sw;  // output strides
  int phases;
  WgmmaPhase phase[kWgmmaMaxPhases];
};

// Whether the kernels hold sm_90a code (CUDA 12 on); else they are empty.
bool wgmma_kernels_built();
// Dynamic shared memory of the conv kernel (its buffers).
size_t wgmma_smem_bytes(const WgmmaConv& c);
// Floats of one phase's packed weight and of one chunk's packed input.
int64_t wgmma_packed_weight_floats(const WgmmaConv& c);
int64_t wgmma_packed_input_floats(const WgmmaConv& c);

// Each returns the launch's cudaError_t (cudaSuccess, or the configuration error).
// Every phase's weight (taps_h x taps_w taps at its weight_source from weight, c's weight
// strides), packed at packed (each at its weight_offset), in one launch.
cudaError_t launch_wgmma_pack_weight(const WgmmaConv& c, const float* weight, float* packed,
                                     cudaStream_t stream);
cudaError_t launch_wgmma_pack_input(const WgmmaConv& c, const float* input, float* packed,
                                    cudaStream_t stream);
// redo (split only): set to 1 where an output is infinite or NaN, for the guarded rerun.
cudaError_t launch_wgmma_conv(const WgmmaConv& c, const float* packed_input, const float* packed_weight,
                              const float* bias, float* out, int* redo, cudaStream_t stream);

}  // namespace gemm_convt
