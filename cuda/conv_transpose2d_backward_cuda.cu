// CUDA backward: our im2col kernel turns each chunk of grad_output (whole
// samples, or a band of input rows of one) into columns (in grad_output's own
// dtype: a copy, no rounding) inside a bounded workspace, and cuBLAS
// multiplies them with the weight (grad_input) and with the input
// (grad_weight: one GEMM over all the chunk's samples and pixels, chunks in a
// fixed order: deterministic). IEEE float32 with in_per_group <= 16 runs both on
// our thin_gemm kernel instead (grad_weight's K split into slices, summed in
// order at the end). Stride 1: grad_input is the forward of a derived problem
// (conv_transpose2d_backward.h), run on the implicit GEMM where its cost model
// takes it. grad_weight may skip the columns too (grad_weight_implicit.cuh).
// The columns serve whatever is left. Half/bfloat16 products accumulate in float:
// grad_weight in a float buffer, grad_input directly into the half output
// unless its sum is split across channel chunks (then a float buffer of one
// sample).

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>

#include <algorithm>

#include "../csrc/conv_transpose2d_backward.h"
#include "backward_gemm.h"
#include "im2col_kernel.cuh"
#include "side_streams.h"
#include "grad_weight_implicit.cuh"
#include "implicit_gemm.cuh"

namespace gemm_convt {
namespace {

template <typename scalar_t>
void im2col_chunk(const Problem& p, const ConvTranspose2dOptions& o, const Chunk& c,
                  const at::Tensor& grad_output, at::Tensor& columns) {
  const scalar_t* src = grad_output.data_ptr<scalar_t>() + chunk_out_offset(p, c, grad_output);
  scalar_t* cols = columns.data_ptr<scalar_t>();
  // 32-bit index arithmetic whenever every offset of the chunk fits.
  if (im2col_chunk_fits<int32_t>(p, c, grad_output, kIm2colHeadroom))
    launch_im2col(make_im2col_chunk<int32_t>(p, o, c, grad_output), src, cols);
  else
    launch_im2col(make_im2col_chunk<int64_t>(p, o, c, grad_output), src, cols);
}

// Stride 1: grad_input by the implicit GEMM as a forward (no columns); false
// where the problem lacks that form or the implicit GEMM's cost model declines.
bool grad_input_by_implicit_gemm(const Problem& p, const ConvTranspose2dOptions& options,
                                 const at::Tensor& grad_output, const at::Tensor& weight,
                                 at::Tensor& grad_input) {
  auto forward_options = grad_input_forward_options(p, options);
  if (!forward_options) return false;
  // The derived weight is a copy that lives beside the forward's workspace: it
  // comes off the backward's cap (kb65's TF32 backward measured 64.7 MiB with
  // the forward's whole cap).
  const int64_t derived_weight_bytes = weight.numel() * int64_t(weight.element_size());
  forward_options->workspace_bytes =
      std::max<int64_t>(0, backward_workspace_bytes(options) - derived_weight_bytes);
  const Problem q = grad_input_forward_problem(p);
  if (!implicit_gemm_applies(q, *forward_options, grad_output.scalar_type())) return false;
  implicit_gemm_cuda(q, *forward_options, grad_output, grad_input_forward_weight(p, weight),
                     at::Tensor(), grad_input);
  return true;
}

// The rest: im2col of grad_output per chunk, cuBLAS or the thin kernel.
void backward_by_columns(const at::Tensor& grad_output, const at::Tensor& input,
                         const at::Tensor& weight_in, const ConvTranspose2dOptions& options,
                         at::Tensor& grad_input, at::Tensor& grad_weight) {
  const Problem p(input, weight_in, options);
  const at::Tensor weight = weight_in.contiguous();
  const auto dtype = input.scalar_type();
  const bool half = dtype == at::kHalf || dtype == at::kBFloat16;
  const InputOperand x =
      grad_weight.defined() ? input_operand(input, p.in_per_group) : InputOperand{};
  // An NCHW-like input is repacked per chunk of several samples for grad_weight:
  // that copy shares the workspace budget with the columns.
  const bool pack = grad_weight.defined() && input_needs_pack(p, x, p.in_h);
  // Half types accumulate in float buffers, which come out of the same budget:
  // grad_weight's always, grad_input's (one sample) where channels are split.
  ThinPlan thin = thin_plan(p, dtype, options.allow_tf32, grad_input.defined(),
                            grad_weight.defined());
  const int64_t cap = backward_workspace_bytes(options);
  const int64_t parts_bytes = thin_parts_bytes(thin, weight, cap);
  int64_t budget = cap - parts_bytes;
  if (half && grad_weight.defined()) budget -= weight.numel() * int64_t(sizeof(float));
  const auto plan = [&](int64_t bytes) {
    return p.backward_chunk_shape(std::max<int64_t>(bytes, 1), c10::elementSize(dtype),
                                  pack ? p.in_channels : 0);
  };
  ChunkShape shape = plan(budget);
  if (half && grad_input.defined() && shape.channels < p.out_per_group)
    shape = plan(budget - p.in_channels * p.in_pixels() * int64_t(sizeof(float)));
  at::Tensor workspace = at::empty({shape.elems(p.backward_chunk_problem())}, input.options());
  plan_thin_slices(p, shape, weight, parts_bytes, thin);
  at::Tensor packed_input;
  if (pack && shape.samples > 1)
    packed_input = at::empty({p.in_channels * shape.samples * p.in_pixels()}, input.options());

  // Accumulation targets (see the file comment).
  const bool split_channels = shape.channels < p.out_per_group;
  at::Tensor gi_acc;
  if (grad_input.defined())
    gi_acc = half && split_channels
                 ? at::empty({1, p.in_channels, p.in_h, p.in_w}, input.options().dtype(at::kFloat))
                 : grad_input;
  at::Tensor gw_acc;
  if (grad_weight.defined())
    gw_acc = half ? at::empty(weight.sizes(), weight.options().dtype(at::kFloat)) : grad_weight;

  const OnSideStream on_side_stream;
  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, dtype, "gemm_convt_backward_cuda", [&] {
        for_each_backward_chunk(p.backward_chunk_problem(), shape, [&](const Chunk& c) {
          im2col_chunk<scalar_t>(p, options, c, grad_output, workspace);
          if (gi_acc.defined()) {
            const int64_t dst_n0 = gi_acc.is_same(grad_input) ? 0 : c.n0;
            grad_input_gemm_cuda(p, c, weight, workspace, gi_acc, dst_n0, options.allow_tf32,
                                 thin);
            if (!gi_acc.is_same(grad_input) && c.c0 + c.channels == p.out_per_group) {
              const int64_t ch0 = c.g0 * p.in_per_group, chs = c.groups * p.in_per_group;
              grad_input.select(0, c.n0).narrow(0, ch0, chs).narrow(1, c.row_begin, c.rows).copy_(
                  gi_acc.select(0, 0).narrow(0, ch0, chs).narrow(1, c.row_begin, c.rows));
            }
          }
          if (gw_acc.defined())
            grad_weight_gemm_cuda(p, c, chunk_input_operand(p, c, x, packed_input), workspace,
                                  gw_acc, options.allow_tf32, thin);
        });
      });
  if (gw_acc.defined()) finish_grad_weight(thin, gw_acc);
  if (gw_acc.defined() && !gw_acc.is_same(grad_weight)) grad_weight.copy_(gw_acc);
}

}  // namespace

void conv_transpose2d_backward_cuda(const at::Tensor& grad_output, const at::Tensor& input,
                                    const at::Tensor& weight, const ConvTranspose2dOptions& options,
                                    at::Tensor& grad_input, at::Tensor& grad_weight) {
  const Problem p(input, weight, options);
  at::Tensor columns_grad_input = grad_input, columns_grad_weight = grad_weight;
  if (grad_weight.defined() && grad_weight_implicit_applies(p, options, input.scalar_type())) {
    grad_weight_implicit_cuda(p, options, input, grad_output, grad_weight);
    columns_grad_weight = at::Tensor();
  }
  if (grad_input.defined() && grad_input_by_implicit_gemm(p, options, grad_output, weight, grad_input))
    columns_grad_input = at::Tensor();
  if (columns_grad_input.defined() || columns_grad_weight.defined())
    backward_by_columns(grad_output, input, weight, options, columns_grad_input, columns_grad_weight);
}

}  // namespace gemm_convt
