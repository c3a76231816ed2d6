#pragma once

// conv_transpose2d backward: one signature for every backend, and the host
// helpers that describe a chunk of grad_output to the shared im2col step.
//
// With columns = im2col(grad_output) of a chunk (Cout/groups * kh * kw rows
// per group, each holding the chunk's samples side by side: im2col.h):
//   grad_input[n][g]  = weight[g] · columns[g][:, sample n's block]
//   grad_weight[g]    = sum over chunks, in order, of input[g] · columns[g]ᵀ
//                       (one GEMM contracts all the chunk's samples and pixels)
//   grad_bias         = sum of grad_output over N, H, W
// The dispatch layer has validated the arguments and allocated the requested
// gradients (undefined = not requested); a backend fills them.

#include <ATen/ATen.h>

#include <algorithm>
#include <array>
#include <tuple>

#include "gemm_convt/im2col.h"
#include "problem.h"

namespace gemm_convt {

// Backward columns never take more than this, whatever the forward's cap:
// the extra memory of a backward call stays bounded.
constexpr int64_t kBackwardWorkspaceCap = int64_t(64) << 20;

inline int64_t backward_workspace_bytes(const ConvTranspose2dOptions& o) {
  return std::min(o.workspace_bytes, kBackwardWorkspaceCap);
}

std::tuple<at::Tensor, at::Tensor, at::Tensor> conv_transpose2d_backward(
    const at::Tensor& grad_output, const at::Tensor& input, const at::Tensor& weight,
    const ConvTranspose2dOptions& options, std::array<bool, 3> output_mask);

void conv_transpose2d_backward_cpu(const at::Tensor& grad_output, const at::Tensor& input,
                                   const at::Tensor& weight, const ConvTranspose2dOptions& options,
                                   at::Tensor& grad_input, at::Tensor& grad_weight);

// grad_weight contracted in place on the CPU (include/gemm_convt/grad_weight.h,
// the CUDA kernel's geometry): used when the implicit GEMM is forced.
void grad_weight_walk_cpu(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                          const at::Tensor& grad_output, at::Tensor& grad_weight);

#ifdef GEMM_CONVT_WITH_CUDA
void conv_transpose2d_backward_cuda(const at::Tensor& grad_output, const at::Tensor& input,
                                    const at::Tensor& weight, const ConvTranspose2dOptions& options,
                                    at::Tensor& grad_input, at::Tensor& grad_weight);
#endif

// A stride-1 transposed convolution's grad_input is itself a stride-1
// transposed convolution, of grad_output: the weight flipped in both taps with
// its channel roles swapped, padding dilation * (k - 1) - padding. The forward's
// kernels then compute it with no columns (the implicit GEMM: NOTES.md, session
// 11). None where the problem lacks that form: a stride > 1, an output padding,
// a padding past dilation * (k - 1).
c10::optional<ConvTranspose2dOptions> grad_input_forward_options(const Problem& p,
                                                                 const ConvTranspose2dOptions& o);
// That transposed convolution's sizes: grad_output in, grad_input out.
Problem grad_input_forward_problem(const Problem& p);
// Its weight [out_channels, in_per_group, kh, kw]: weight[g*in_per_group + a][b][i][j]
// moves to [g*out_per_group + b][a][kh-1-i][kw-1-j].
at::Tensor grad_input_forward_weight(const Problem& p, const at::Tensor& weight);

// Whether every offset the im2col step forms for this chunk fits index_t with
// `headroom` to spare (the CUDA kernel's indices run up to that past the end).
template <typename index_t>
bool im2col_chunk_fits(const Problem& p, const Chunk& c, const at::Tensor& grad_output,
                       int64_t headroom) {
  const int64_t columns = c.groups * c.channels * p.kernel_taps() * c.samples * c.rows * p.in_w;
  const int64_t src_span = chunk_output_span(p, c, grad_output);
  const int64_t limit = std::numeric_limits<index_t>::max() - headroom;
  return columns <= limit && src_span <= limit;
}

template <typename index_t>
Im2colChunk<index_t> make_im2col_chunk(const Problem& p, const ConvTranspose2dOptions& o,
                                       const Chunk& c, const at::Tensor& grad_output) {
  Im2colChunk<index_t> k;
  k.h_axis = height_axis<index_t>(p, o);
  k.w_axis = width_axis<index_t>(p, o);
  k.samples = index_t(c.samples);
  k.groups = index_t(c.groups);
  k.channels = index_t(c.channels);
  k.channels_per_group = index_t(p.out_per_group);
  k.row_begin = index_t(c.row_begin);
  k.rows = index_t(c.rows);
  k.src_stride_n = index_t(grad_output.stride(0));
  k.src_stride_c = index_t(grad_output.stride(1));
  k.src_stride_h = index_t(grad_output.stride(2));
  k.src_stride_w = index_t(grad_output.stride(3));
  return k;
}

}  // namespace gemm_convt
