#pragma once

// The direct gather's row form, where the taps are disjoint on both axes
// (gather.h, gather_takes_rows; e.g. KernelBench #81: 3x3, dilation 2, stride
// 5). Each output row has at most one kernel row landing on it and each output
// column at most one kernel column, so a block stages the weights of one
// kernel row once and the input rows of 4 output rows at a time (the next 4
// by cp.async under the current products), and every thread contracts one
// input pixel a row with one tap for 16 output channels and 4 rows, in the
// accumulation type (float32 FMAs for float32: accurate under any TF32
// policy). Rows and columns that no tap reaches take the bias. No workspace,
// one writer per output element, no atomics: deterministic. Only where the
// output's rows are contiguous: its stores run along them.

#include <ATen/ATen.h>

#include "../csrc/problem.h"

namespace gemm_convt {

// Whether the row form can run this call: disjoint taps, contiguous output
// rows, the block's staged weights and two input tiles within 96 KiB (and the
// device's opt-in limit), 32-bit in-plane indices.
bool gather_rows_supported(const Problem& p, const ConvTranspose2dOptions& o,
                           at::ScalarType dtype);

// Seconds predicted for the row form (its output bytes or its multiply-adds,
// whichever is longer; NOTES.md session 36).
double gather_rows_seconds(const Problem& p, at::ScalarType dtype);

void gather_rows_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                      const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out);

}  // namespace gemm_convt
