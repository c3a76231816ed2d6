// CPU backward: our im2col turns each chunk of grad_output into columns, and
// torch's BLAS (at::mm / addmm_) multiplies them with the weight (grad_input)
// and the input (grad_weight). Gradients of half/bfloat16 tensors accumulate in
// float and are rounded once at the end.

#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>

#include "../conv_transpose2d_backward.h"

namespace gemm_convt {
namespace {

template <typename scalar_t, typename col_t>
void im2col_cpu(const Problem& p, const ConvTranspose2dOptions& o, const Chunk& c,
                const at::Tensor& grad_output, at::Tensor& columns) {
  const Im2colChunk<int64_t> chunk = make_im2col_chunk<int64_t>(p, o, c, grad_output);
  const scalar_t* src = grad_output.data_ptr<scalar_t>() + chunk_out_offset(p, c, grad_output);
  col_t* cols = columns.data_ptr<col_t>();
  // Parallel over column rows (sample, group, channel, tap); a row is one
  // (i, j) tap over every input pixel.
  const int64_t rows = chunk.batch * chunk.groups * chunk.channels * p.kernel_taps();
  const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / (4 * p.in_pixels()));
  at::parallel_for(0, rows, grain, [&](int64_t begin, int64_t end) {
    for (int64_t row = begin; row < end; ++row) {
      const Im2colRow<int64_t> r = im2col_row(chunk, row);
      for (int64_t h = 0; h < p.in_h; ++h)
        for (int64_t w = 0; w < p.in_w; ++w)
          im2col_value(chunk, src, cols, r.n, r.grp, r.c, r.i, r.j, h, w);
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

}  // namespace

void conv_transpose2d_backward_cpu(const at::Tensor& grad_output, const at::Tensor& input,
                                   const at::Tensor& weight, const ConvTranspose2dOptions& options,
                                   at::Tensor& grad_input, at::Tensor& grad_weight) {
  const Problem p(input, weight, options);
  const auto dtype = input.scalar_type();
  const auto col_dtype = column_dtype(dtype, /*float_columns=*/true);
  const int64_t taps = p.kernel_taps(), pixels = p.in_pixels();
  const ChunkShape shape =
      p.unbanded_chunk_shape(backward_workspace_bytes(options), c10::elementSize(col_dtype));
  at::Tensor workspace = at::empty(
      {shape.samples * shape.groups * shape.channels * p.plane_elems()},
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
        for_each_chunk(p.unbanded_chunk_problem(), shape, [&](const Chunk& c) {
          const int64_t rows = c.channels * taps;
          at::Tensor columns =
              workspace.narrow(0, 0, c.samples * c.groups * rows * pixels)
                  .view({c.samples, c.groups, rows, pixels});
          im2col_cpu<scalar_t, col_t>(p, options, c, grad_output, columns);
          for (int64_t g = 0; g < c.groups; ++g) {
            const int64_t grp = c.g0 + g;
            const at::Tensor w_rows = w.select(0, grp).narrow(1, c.c0 * taps, rows);
            for (int64_t n = 0; n < c.samples; ++n) {
              const at::Tensor cols = columns.select(0, n).select(0, g);
              if (gi.defined()) {
                at::Tensor dst = gi.select(0, c.n0 + n)
                                     .narrow(0, grp * p.in_per_group, p.in_per_group)
                                     .view({p.in_per_group, pixels});
                mm_accumulate(dst, w_rows, cols, c.c0 == 0);
              }
              if (gw.defined()) {
                const at::Tensor x = input.select(0, c.n0 + n)
                                         .narrow(0, grp * p.in_per_group, p.in_per_group)
                                         .reshape({p.in_per_group, pixels})
                                         .to(col_dtype);
                at::Tensor dst = gw.narrow(0, grp * p.in_per_group, p.in_per_group)
                                     .view({p.in_per_group, p.out_per_group * taps})
                                     .narrow(1, c.c0 * taps, rows);
                mm_accumulate(dst, x, cols.t(), c.n0 + n == 0);
              }
            }
          }
        });
      });
  if (gi.defined() && !gi.is_same(grad_input)) grad_input.copy_(gi);
  if (gw.defined() && !gw.is_same(grad_weight)) grad_weight.copy_(gw);
}

}  // namespace gemm_convt
