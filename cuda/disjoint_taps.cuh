#pragma once

// Problems whose taps never overlap (geometry.h, taps_disjoint: U-Net's 2x2
// stride 2, #81's dilated 3x3 stride 5): the output is a permutation of the
// GEMM's product plus the bias, so one tensor-core kernel computes a tile of
// the product and writes it straight into the output. No columns buffer, no
// workspace: the columns' round trip through memory is what it saves.

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// Whether disjoint_taps_cuda runs this call: disjoint taps on both axes, a
// tensor-core dtype (float32 as TF32 where allowed, else as three TF32
// products for <= 512 input channels per group), an sm80+ GPU, and
// set_disjoint_taps's mode (by default: gap-free cells with 16-byte copies,
// and channels_last inputs with >= 16 input channels per group).
bool disjoint_taps_applies(const Problem& p, const ConvTranspose2dOptions& o,
                           const at::Tensor& input, const at::Tensor& weight);

// out = conv_transpose2d(input, weight, bias): every element written once.
void disjoint_taps_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                        const at::Tensor& input, const at::Tensor& weight,
                        const at::Tensor& bias, at::Tensor& out);

}  // namespace gemm_convt
