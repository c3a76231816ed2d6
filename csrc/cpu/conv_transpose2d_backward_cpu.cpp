// CPU backward: our im2col turns each chunk of grad_output (samples, or a
// band of input rows) into columns, and torch's BLAS (at::mm / addmm_)
// multiplies them with the weight (grad_input) and the input (grad_weight).
// Gradients of half/bfloat16 tensors accumulate in float and are rounded once
// at the end. With the implicit GEMM forced (set_implicit_gemm(True)), a
// stride-1 grad_input is the derived forward (conv_transpose2d_backward.h) on
// its CPU walk, as the CUDA backward runs it where its cost model picks it,
// and grad_weight is contracted in place (grad_weight_cpu.cpp), as the CUDA
// kernel does.

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "../conv_transpose2d.h"
#include "../conv_transpose2d_backward.h"

namespace gemm_convt {
namespace {

template <typename scalar_t, typename col_t>
void im2col_cpu(const Problem& p, const ConvTranspose2dOptions& o, const Chunk& c,
                const at::Tensor& grad_output, col_t* columns) {
  const Im2colChunk<int64_t> chunk = make_im2col_chunk<int64_t>(p, o, c, grad_output);
  const scalar_t* src = grad_output.data_ptr<scalar_t>() + chunk_out_offset(p, c, grad_output);
  const int64_t length = chunk.row_length();
  // Parallel over column rows (group, channel, tap); a row is written in
  // storage order: samples, band rows, input columns.
  const int64_t taps = chunk.taps(), kernel_w = chunk.w_axis.kernel;
  const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / (4 * length));
  at::parallel_for(0, chunk.column_rows(), grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const int64_t plane_src = im2col_plane_source(chunk, row / taps);
      const int64_t i = row % taps / kernel_w, j = row % kernel_w;
      col_t* dst = columns + row * length;
      for (int64_t n = 0; n < chunk.samples; ++n)
        for (int64_t h = 0; h < chunk.rows; ++h)
          for (int64_t w = 0; w < p.in_w; ++w)
            *dst++ = static_cast<col_t>(im2col_value(chunk, src, plane_src, i, j, n, h, w));
    }
  });
}

// dst = a · b on the first contribution, dst += a · b after it: a fixed
// order of accumulation, so reruns give the same bits.
void mm_accumulate(at::Tensor dst, const at::Tensor& a, const at::Tensor& b, bool first) {
  if (first)
    at::mm_out(dst, a, b);
  else
    dst.addmm_(a, b);
}

// The columns route: im2col of grad_output per chunk, torch's BLAS.
void backward_by_columns(const at::Tensor& grad_output, const at::Tensor& input,
                         const at::Tensor& weight, const ConvTranspose2dOptions& options,
                         at::Tensor& grad_input, at::Tensor& grad_weight) {
  const Problem p(input, weight, options);
  const auto dtype = input.scalar_type();
  const auto col_dtype = column_dtype(dtype, /*float_columns=*/true);
  const int64_t taps = p.kernel_taps(), pixels = p.in_pixels();
  // The input of a chunk is repacked (channels x samples x band pixels, in
  // the column dtype) for grad_weight: counted in the workspace.
  const ChunkShape shape = p.backward_chunk_shape(backward_workspace_bytes(options),
                                                  c10::elementSize(col_dtype),
                                                  grad_weight.defined() ? p.in_channels : 0);
  at::Tensor workspace = at::empty(
      {shape.elems(p.backward_chunk_problem())},
      input.options().dtype(col_dtype));

  // Gradients are computed into contiguous column-dtype buffers (the outputs
  // themselves when those already are) and copied out at the end.
  const auto buffer_for = [&](const at::Tensor& grad) {
    if (!grad.defined()) return at::Tensor();
    return grad.scalar_type() == col_dtype && grad.is_contiguous()
               ? grad
               : at::empty(grad.sizes(), grad.options().dtype(col_dtype));
  };
  at::Tensor gi = buffer_for(grad_input), gw = buffer_for(grad_weight);
  const at::Tensor w = weight.to(col_dtype).contiguous().view(
      {p.groups, p.in_per_group, p.out_per_group * taps});

  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, dtype, "gemm_convt_backward_cpu", [&] {
        using col_t = std::conditional_t<std::is_same<scalar_t, double>::value, double, float>;
        for_each_backward_chunk(p.backward_chunk_problem(), shape, [&](const Chunk& c) {
          const int64_t rows = c.channels * taps, band = c.rows * p.in_w;
          const int64_t length = c.samples * band;
          at::Tensor columns =
              workspace.narrow(0, 0, c.groups * rows * length).view({c.groups, rows, length});
          im2col_cpu<scalar_t, col_t>(p, options, c, grad_output, columns.data_ptr<col_t>());
          for (int64_t g = 0; g < c.groups; ++g) {
            const int64_t grp = c.g0 + g;
            const at::Tensor w_rows = w.select(0, grp).narrow(1, c.c0 * taps, rows);
            const at::Tensor cols = columns.select(0, g);  // rows x (samples, band pixels)
            if (gi.defined()) {
              for (int64_t n = 0; n < c.samples; ++n) {
                at::Tensor dst = gi.select(0, c.n0 + n)
                                     .narrow(0, grp * p.in_per_group, p.in_per_group)
                                     .view({p.in_per_group, pixels})
                                     .narrow(1, c.row_begin * p.in_w, band);
                mm_accumulate(dst, w_rows, cols.narrow(1, n * band, band), c.c0 == 0);
              }
            }
            if (gw.defined()) {
              const at::Tensor x = input.narrow(0, c.n0, c.samples)
                                       .narrow(1, grp * p.in_per_group, p.in_per_group)
                                       .narrow(2, c.row_begin, c.rows)
                                       .transpose(0, 1)
                                       .reshape({p.in_per_group, length})
                                       .to(col_dtype);
              at::Tensor dst = gw.narrow(0, grp * p.in_per_group, p.in_per_group)
                                   .view({p.in_per_group, p.out_per_group * taps})
                                   .narrow(1, c.c0 * taps, rows);
              mm_accumulate(dst, x, cols.t(), c.n0 == 0 && c.row_begin == 0);
            }
          }
        });
      });
  if (gi.defined() && !gi.is_same(grad_input)) grad_input.copy_(gi);
  if (gw.defined() && !gw.is_same(grad_weight)) grad_weight.copy_(gw);
}

}  // namespace

void conv_transpose2d_backward_cpu(const at::Tensor& grad_output, const at::Tensor& input,
                                   const at::Tensor& weight, const ConvTranspose2dOptions& options,
                                   at::Tensor& grad_input, at::Tensor& grad_weight) {
  at::Tensor columns_grad_input = grad_input, columns_grad_weight = grad_weight;
  if (options.implicit_gemm > 0) {
    const Problem p(input, weight, options);
    const auto forward_options = grad_input_forward_options(p, options);
    if (grad_input.defined() && forward_options) {
      implicit_gemm_cpu(grad_input_forward_problem(p), *forward_options, grad_output,
                        grad_input_forward_weight(p, weight), at::Tensor(), grad_input);
      columns_grad_input = at::Tensor();
    }
    if (grad_weight.defined()) {
      grad_weight_walk_cpu(p, options, input, grad_output, grad_weight);
      columns_grad_weight = at::Tensor();
    }
  }
  if (columns_grad_input.defined() || columns_grad_weight.defined())
    backward_by_columns(grad_output, input, weight, options, columns_grad_input, columns_grad_weight);
}

}  // namespace gemm_convt
