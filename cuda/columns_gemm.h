#pragma once

// cuBLAS GEMMs of the CUDA path (host code). cuBLAS is column-major: a
// row-major [rows x cols] block is a column-major [cols x rows] matrix.

#include <ATen/ATen.h>
#include <library_types.h>

#include "problem.h"

namespace gemm_convt {

// The CUDA library type of a float32, float64, float16 or bfloat16 tensor.
cudaDataType_t cuda_dtype(at::ScalarType t);

// A column-major operand of a strided-batched GEMM.
struct MatrixRef {
  const void* ptr;
  int64_t ld;
  bool transposed;
  int64_t batch_stride;  // elements between consecutive batch entries
};

// c[b] = op(a[b]) · op(b[b]) + beta · c[b] for b < batch, on torch's current
// stream and cuBLAS handle. `in_dtype` is the dtype of a and b, `out_dtype`
// that of c; accumulation is float (double for double). allow_tf32 lets a
// float32 product use TF32 tensor cores; otherwise it runs in IEEE fp32.
void gemm_strided_batched(at::ScalarType in_dtype, at::ScalarType out_dtype, int64_t m,
                          int64_t n, int64_t k, const MatrixRef& a, const MatrixRef& b,
                          void* c, int64_t ldc, int64_t c_batch_stride, double beta,
                          int64_t batch, bool allow_tf32);

// The input as cuBLAS sees it: pixels x channels per sample, either
// pixel-major (NCHW-like, transposed=false, ld = channel stride) or
// channel-major (NHWC-like, transposed=true, ld = pixel stride).
struct InputOperand {
  at::Tensor storage;  // keeps a contiguous copy alive when one was needed
  const char* base;
  int64_t ld, sample_stride, channel_stride;
  bool channel_major;

  // Distance between consecutive pixels: 1 in NCHW, ld in channels_last.
  int64_t pixel_stride() const { return channel_major ? ld : 1; }
  // The chunk's first sample, channel 0, first input row.
  const char* chunk_base(const Chunk& c, int64_t in_w, int64_t esize) const {
    return base + (c.n0 * sample_stride + c.row_begin * in_w * pixel_stride()) * esize;
  }
};
InputOperand input_operand(const at::Tensor& input, int64_t in_per_group);

// A chunk's input with its samples side by side: a (sample, band pixel) x
// channel matrix of group 0 (batch_stride: to the next group), the forward's
// A and grad_weight's B. Read in place where the input is uniform along
// (sample, pixel) -- one sample, or channels_last with every row -- else
// repacked into `pack` (channels x samples x rows: in_channels*samples*pixels
// elements at least).
MatrixRef chunk_input_operand(const Problem& p, const Chunk& c, const InputOperand& x,
                              at::Tensor& pack);

// Whether chunk_input_operand needs `pack` for chunks of several samples of
// `rows` input rows.
bool input_needs_pack(const Problem& p, const InputOperand& x, int64_t rows);

// columns[g][c*taps + tap][(n, row, w)] for the chunk (samples side by side,
// problem.h's ColumnsLayout), from chunk_input_operand's matrix and the
// weight: as it is, or (k_major) from weight_rows_k_major. For TF32 the K-major
// weight gets cuBLAS's sm90 kernels where the plain one got sm80 ones.
void columns_gemm_side_by_side_cuda(const Problem& p, const Chunk& c, const MatrixRef& x,
                                    const at::Tensor& weight, bool k_major, at::Tensor& columns,
                                    bool allow_tf32);

// The weight transposed per group: [groups][out_per_group*taps][in_per_group].
at::Tensor weight_rows_k_major(const Problem& p, const at::Tensor& weight);

// columns[n][g][c*taps + tap][row*width + w] for the chunk (samples one after
// another, problem.h's ColumnsShape) from operands made per chunk (operand.cuh): a is dense
// [samples][groups][k_per_group][rows*width] for the chunk's samples and rows,
// b is [groups][k_per_group][out_per_group*taps].
void columns_gemm_made_cuda(const Problem& p, const ColumnsShape& cs, const Chunk& c,
                            const void* a, const void* b, int64_t k_per_group,
                            at::ScalarType dtype, at::Tensor& columns, bool allow_tf32);

// Width folded (fold_operand.cuh): columns[g][c*taps + i][r][(n, row, m)]
// (problem.h's phase-plane layout) for each group and phase r, from the
// chunk's A [g][r][(n, row, m)][k] and B [groups][r][out_per_group*taps][k]:
// one call per group, batched over the phases. k: cs.k_per_group, or three
// times that for split operands (with allow_tf32).
void columns_gemm_folded_cuda(const Problem& p, const ColumnsShape& cs, const Chunk& c,
                              const void* a, const void* b, int64_t k, at::ScalarType dtype,
                              at::Tensor& columns, bool allow_tf32);

// 1x1 kernel, stride 1, no padding: the GEMM result is the output itself.
// `out` must hold the bias (or anything, when has_bias is false).
void direct_gemm_cuda(const Problem& p, const InputOperand& x, const at::Tensor& weight,
                      at::Tensor& out, bool has_bias, bool allow_tf32);

}  // namespace gemm_convt
