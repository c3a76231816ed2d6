// CPU backend: torch's BLAS (at::mm) computes the columns chunk by chunk,
// then our col2im gathers them into the output with the bias added.

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include <algorithm>
#include <vector>

#include "../conv_transpose2d.h"

namespace gemm_convt {
namespace {

// The input rows of a chunk unfolded along w (width folding): row (ci, j) of
// the result holds input[ci][h][tap_source(ow, j)], 0 where the tap reads
// nothing, for the chunk's rows h and every output column ow.
at::Tensor unfold_width_cpu(const at::Tensor& x /* (k, rows, in_w) */, const Axis<int64_t>& w) {
  std::vector<int64_t> source(w.kernel * w.out_size);
  for (int64_t j = 0; j < w.kernel; ++j)
    for (int64_t o = 0; o < w.out_size; ++o) {
      const int64_t q = tap_source(w, o, j);
      source[j * w.out_size + o] = q < 0 ? w.in_size : q;  // the zero column appended below
    }
  const at::Tensor index = at::tensor(source, x.options().dtype(at::kLong));
  const at::Tensor padded = at::constant_pad_nd(x, {0, 1});
  return padded.index_select(2, index)
      .view({x.size(0), x.size(1), w.kernel, w.out_size})
      .permute({0, 2, 1, 3})
      .reshape({x.size(0) * w.kernel, x.size(1) * w.out_size});
}

// The chunk's columns = B[g]ᵀ[rows of channels c0..] · A[g], with A the chunk's
// input rows and B the weight. Plain: A holds all the chunk's samples side by
// side (one product per group; columns [g][c*taps + tap][(n, row, w)]).
// Width folded: A is unfolded along w per sample, B's rows are ordered
// (ci, j), and the columns are [n][g][c*taps + tap][(row, ow)].
void columns_gemm_cpu(const Problem& p, const ConvTranspose2dOptions& o, const ColumnsShape& cs,
                      const Chunk& c, const at::Tensor& input, const at::Tensor& weight,
                      at::Tensor& columns) {
  const auto col_dtype = columns.scalar_type();
  at::Tensor b = weight;
  if (cs.fold_w)  // [Cin][co][i][j] -> [Cin][j][co][i]
    b = weight.permute({0, 3, 1, 2});
  b = b.reshape({p.in_channels * (cs.fold_w ? p.kernel_w : 1), p.out_per_group * cs.taps});
  const int64_t col_rows = c.channels * cs.taps;
  for (int64_t g = 0; g < c.groups; ++g) {
    const int64_t grp = c.g0 + g;
    const at::Tensor w_rows = b.narrow(0, grp * cs.k_per_group, cs.k_per_group)
                                  .narrow(1, c.c0 * cs.taps, col_rows)
                                  .to(col_dtype);
    const at::Tensor rows = input.narrow(0, c.n0, c.samples)
                                .narrow(1, grp * p.in_per_group, p.in_per_group)
                                .narrow(2, c.row_begin, c.rows);
    if (!cs.fold_w) {
      const int64_t length = c.samples * c.rows * p.in_w;
      at::Tensor dst = columns.narrow(0, g * col_rows * length, col_rows * length)
                           .view({col_rows, length});
      at::mm_out(dst, w_rows.t(), rows.transpose(0, 1).reshape({p.in_per_group, length}).to(col_dtype));
      continue;
    }
    const int64_t block = col_rows * c.rows * cs.width;
    for (int64_t n = 0; n < c.samples; ++n) {
      const at::Tensor x = unfold_width_cpu(rows.select(0, n), width_axis<int64_t>(p, o)).to(col_dtype);
      at::Tensor dst = columns.narrow(0, (n * c.groups + g) * block, block)
                           .view({col_rows, c.rows * cs.width});
      at::mm_out(dst, w_rows.t(), x);
    }
  }
}

template <typename scalar_t, typename col_t, typename index_t>
void col2im_cpu_indexed(const Problem& p, const ConvTranspose2dOptions& o, const ColumnsShape& cs,
                        const Chunk& c, const at::Tensor& columns, const scalar_t* bias,
                        at::Tensor& out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
  const Col2imChunk<index_t> chunk = make_col2im_chunk<index_t>(
      p, o, cs, c, columns_layout(cs, c, /*samples_side_by_side=*/!cs.fold_w), out,
      /*target_items=*/1);
  const col_t* cols = columns.data_ptr<col_t>();
  scalar_t* dst = out.data_ptr<scalar_t>() + chunk_out_offset(p, c, out);
  const scalar_t* chunk_bias = bias ? bias + chunk_first_channel(p, c) : nullptr;
  const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / (4 * chunk.cells_per_item));
  at::parallel_for(0, int64_t(chunk.items()), grain, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item)
      col2im_column<acc_t>(chunk, cols, chunk_bias, dst, col2im_item(chunk, index_t(item)));
  });
}

// 32-bit indices wherever the chunk's offsets fit, as on the GPU: CI then runs
// the GPU's index arithmetic, multiply-shift divisions included (divider.h).
template <typename scalar_t, typename col_t>
void col2im_cpu(const Problem& p, const ConvTranspose2dOptions& o, const ColumnsShape& cs,
                const Chunk& c, const at::Tensor& columns, const scalar_t* bias, at::Tensor& out) {
  if (chunk_fits<int32_t>(p, o, cs, c, out, /*headroom=*/0))
    col2im_cpu_indexed<scalar_t, col_t, int32_t>(p, o, cs, c, columns, bias, out);
  else
    col2im_cpu_indexed<scalar_t, col_t, int64_t>(p, o, cs, c, columns, bias, out);
}

}  // namespace

void conv_transpose2d_cpu(const at::Tensor& input, const at::Tensor& weight,
                          const c10::optional<at::Tensor>& bias, at::Tensor& out,
                          const ConvTranspose2dOptions& options) {
  const Problem p(input, weight, options);
  // The direct paths run on the CPU only when asked (their index math is the CUDA kernels').
  if (options.implicit_gemm > 0 || options.direct_gather > 0) {
    const at::Tensor b = (bias.has_value() && bias->defined()) ? bias->contiguous() : at::Tensor();
    if (options.implicit_gemm > 0)
      implicit_gemm_cpu(p, options, input, weight.contiguous(), b, out);
    else
      direct_gather_cpu(p, options, input, weight.contiguous(), b, out);
    return;
  }
  // Float columns for half inputs on the CPU: at::mm runs in float there anyway.
  const auto col_dtype = column_dtype(input.scalar_type(), /*float_columns=*/true);
  const ColumnsShape cs(p, options);
  const ChunkProblem cp = cs.chunk_problem(p, options);
  const ChunkShape shape = plan_chunks(cp, options.workspace_bytes / c10::elementSize(col_dtype));
  at::Tensor workspace = at::empty({shape.elems(cp)},
                                   input.options().dtype(col_dtype));
  const at::Tensor bias_c =
      (bias.has_value() && bias->defined()) ? bias->contiguous() : at::Tensor();

  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, input.scalar_type(), "gemm_convt_cpu", [&] {
        using col_t = std::conditional_t<std::is_same<scalar_t, double>::value, double, float>;
        const scalar_t* bias_ptr = bias_c.defined() ? bias_c.data_ptr<scalar_t>() : nullptr;
        for_each_chunk(cp, shape, [&](const Chunk& c) {
          at::Tensor columns =
              workspace.narrow(0, 0, c.samples * c.groups * c.channels * cs.taps * c.rows * cs.width);
          if (c.rows > 0) columns_gemm_cpu(p, options, cs, c, input, weight, columns);
          col2im_cpu<scalar_t, col_t>(p, options, cs, c, columns, bias_ptr, out);
        });
      });
}

}  // namespace gemm_convt
