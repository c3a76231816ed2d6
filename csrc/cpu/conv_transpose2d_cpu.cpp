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

// Width folding's operands (problem.h's ColumnsShape), as the CUDA kernels
// make them (fold_operand.cuh) and from the same geometry, through index
// tables along w whose last index (in_w or kw) stands for a zero appended.

// The input column of each (phase, position, slot).
at::Tensor fold_source_index(const Axis<int64_t>& w, const WidthFold<int64_t>& f) {
  const Divider<int64_t> by_stride(w.stride);
  std::vector<int64_t> index;
  for (int64_t r = 0; r < f.phases; ++r) {
    const PhaseTaps<int64_t> phase = phase_taps(w, r, by_stride);
    for (int64_t m = 0; m < f.length; ++m)
      for (int64_t t = 0; t < f.taps; ++t) {
        const int64_t x = fold_source(w, phase, t, m);
        index.push_back(x < 0 ? w.in_size : x);
      }
  }
  return at::tensor(index, at::kLong);
}

// The kernel column of each (phase, slot).
at::Tensor fold_tap_index(const Axis<int64_t>& w, const WidthFold<int64_t>& f) {
  const Divider<int64_t> by_stride(w.stride);
  std::vector<int64_t> index;
  for (int64_t r = 0; r < f.phases; ++r) {
    const PhaseTaps<int64_t> phase = phase_taps(w, r, by_stride);
    for (int64_t t = 0; t < f.taps; ++t) index.push_back(t < phase.hits ? fold_tap(w, phase, t) : w.kernel);
  }
  return at::tensor(index, at::kLong);
}

// A [phase][(n, row, m)][t * k + ci] from rows (samples, k, rows, in_w).
at::Tensor unfold_phases_cpu(const at::Tensor& rows, const Axis<int64_t>& w,
                             const WidthFold<int64_t>& f) {
  const int64_t samples = rows.size(0), k = rows.size(1), height = rows.size(2);
  return at::constant_pad_nd(rows, {0, 1})
      .index_select(3, fold_source_index(w, f))
      .view({samples, k, height, f.phases, f.length, f.taps})
      .permute({3, 0, 2, 4, 5, 1})
      .reshape({f.phases, samples * height * f.length, f.taps * k});
}

// B [phase][(c, i)][t * k + ci] from one group's weight (k, c, kh, kw).
at::Tensor fold_weight_cpu(const at::Tensor& weight, const Axis<int64_t>& w,
                           const WidthFold<int64_t>& f) {
  const int64_t k = weight.size(0), rows = weight.size(1) * weight.size(2);
  return at::constant_pad_nd(weight, {0, 1})
      .index_select(3, fold_tap_index(w, f))
      .view({k, rows, f.phases, f.taps})
      .permute({2, 1, 3, 0})
      .reshape({f.phases, rows, f.taps * k});
}

// Every group's folded B, [g][phase][(c, i)][t * k + ci] in the columns'
// dtype, made once per call (fold_weight_cpu).
at::Tensor fold_weights_cpu(const Problem& p, const ConvTranspose2dOptions& o,
                            const ColumnsShape& cs, const at::Tensor& weight,
                            at::ScalarType col_dtype) {
  const Axis<int64_t> w = width_axis<int64_t>(p, o);
  std::vector<at::Tensor> groups;
  for (int64_t g = 0; g < p.groups; ++g)
    groups.push_back(fold_weight_cpu(weight.narrow(0, g * p.in_per_group, p.in_per_group), w, cs.fold));
  return at::stack(groups).to(col_dtype);
}

// The chunk's columns = B[g]ᵀ[rows of channels c0..] · A[g], with A the chunk's
// input rows and B the weight, samples side by side. Plain: one product per
// group, columns [g][c*taps + tap][(n, row, w)]. Width folded: one per group
// and phase, columns [g][c*taps + i][phase][(n, row, m)], B from
// folded_weights (fold_weights_cpu).
void columns_gemm_cpu(const Problem& p, const ConvTranspose2dOptions& o, const ColumnsShape& cs,
                      const Chunk& c, const at::Tensor& input, const at::Tensor& weight,
                      const at::Tensor& folded_weights, at::Tensor& columns) {
  const auto col_dtype = columns.scalar_type();
  const int64_t col_rows = c.channels * cs.taps;
  const Axis<int64_t> w = width_axis<int64_t>(p, o);
  for (int64_t g = 0; g < c.groups; ++g) {
    const int64_t grp = c.g0 + g;
    const at::Tensor rows = input.narrow(0, c.n0, c.samples)
                                .narrow(1, grp * p.in_per_group, p.in_per_group)
                                .narrow(2, c.row_begin, c.rows);
    if (!cs.fold_w) {
      const at::Tensor w_rows = weight.narrow(0, grp * p.in_per_group, p.in_per_group)
                                    .reshape({p.in_per_group, p.out_per_group * cs.taps})
                                    .narrow(1, c.c0 * cs.taps, col_rows)
                                    .to(col_dtype);
      const int64_t length = c.samples * c.rows * p.in_w;
      at::Tensor dst = columns.narrow(0, g * col_rows * length, col_rows * length)
                           .view({col_rows, length});
      at::mm_out(dst, w_rows.t(), rows.transpose(0, 1).reshape({p.in_per_group, length}).to(col_dtype));
      continue;
    }
    const at::Tensor a = unfold_phases_cpu(rows, w, cs.fold).to(col_dtype);
    const at::Tensor b = folded_weights.select(0, grp).narrow(1, c.c0 * cs.taps, col_rows);
    const int64_t positions = a.size(1);
    columns.narrow(0, g * col_rows * cs.fold.phases * positions, col_rows * cs.fold.phases * positions)
        .view({col_rows, cs.fold.phases, positions})
        .copy_(at::bmm(b, a.transpose(1, 2)).transpose(0, 1));
  }
}

// One block item (col2im_block.h) of G width phases, scalar loads and stores.
template <int G, typename acc_t, typename index_t, typename col_t, typename scalar_t>
void col2im_block_cpu(const Col2imChunk<index_t>& k, const col_t* cols, const scalar_t* bias,
                      scalar_t* out, index_t item) {
  constexpr int L = block_lanes(int(sizeof(col_t)), G);
  col2im_block<G, L, acc_t>(k, cols, bias, out, item, ScalarRuns{}, ScalarBlockStore{});
}

template <typename scalar_t, typename col_t, typename index_t>
void col2im_cpu_indexed(const Problem& p, const ConvTranspose2dOptions& o, const ColumnsShape& cs,
                        const Chunk& c, const at::Tensor& columns, const scalar_t* bias,
                        at::Tensor& out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
  // Items of about 4 pixels: output columns cut into segments (runs of rows)
  // as the GPU cuts them, so CI walks that arithmetic too.
  const int64_t pixels = c.samples * c.groups * c.channels * (c.out_row_end - c.out_row_begin) * p.out_w;
  const Col2imChunk<index_t> chunk = make_col2im_chunk<index_t>(
      p, o, cs, c, columns_layout(cs, c, /*samples_side_by_side=*/true), out,
      /*target_items=*/std::max<int64_t>(1, pixels / 4), sizeof(col_t), o.col2im_blocks);
  const col_t* cols = columns.data_ptr<col_t>();
  scalar_t* dst = out.data_ptr<scalar_t>() + chunk_out_offset(p, c, out);
  const scalar_t* chunk_bias = bias ? bias + chunk_first_channel(p, c) : nullptr;
  const int64_t grain = std::max<int64_t>(1, at::internal::GRAIN_SIZE / (4 * chunk.item_pixels()));
  at::parallel_for(0, int64_t(chunk.items()), grain, [&](int64_t begin, int64_t end) {
    for (int64_t item = begin; item < end; ++item) {
      if (chunk.runs)
        col2im_run<acc_t>(chunk, cols, chunk_bias, dst, index_t(item));
      else if (chunk.block_groups == 1)
        col2im_block_cpu<1, acc_t>(chunk, cols, chunk_bias, dst, index_t(item));
      else if (chunk.block_groups == 2)
        col2im_block_cpu<2, acc_t>(chunk, cols, chunk_bias, dst, index_t(item));
      else
        col2im_item_direct<acc_t>(chunk, cols, chunk_bias, dst, index_t(item));
    }
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

// Plain columns unless width folding is asked for. The fold's unfolded input is
// zero where a tap misses the input (padding), and a weight that is infinite or
// NaN there would add 0 x inf = NaN to an output where torch adds nothing: such
// a weight takes plain columns (a check the CPU can afford; the CUDA fold keeps
// this limitation, README).
ColumnsShape cpu_columns_shape(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& weight) {
  const ColumnsShape asked(p, o, /*fold_by_default=*/false);
  if (!asked.fold_w || at::isfinite(weight).all().item<bool>()) return asked;
  ConvTranspose2dOptions plain = o;
  plain.fold_w = 0;
  return ColumnsShape(p, plain, /*fold_by_default=*/false);
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
  const ColumnsShape cs = cpu_columns_shape(p, options, weight);
  const ChunkProblem cp = cs.chunk_problem(p, options);
  const ChunkShape shape = plan_chunks(cp, options.workspace_bytes / c10::elementSize(col_dtype));
  at::Tensor workspace = at::empty({shape.elems(cp)},
                                   input.options().dtype(col_dtype));
  const at::Tensor bias_c =
      (bias.has_value() && bias->defined()) ? bias->contiguous() : at::Tensor();
  const at::Tensor folded_weights =
      cs.fold_w ? fold_weights_cpu(p, options, cs, weight, col_dtype) : at::Tensor();

  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, input.scalar_type(), "gemm_convt_cpu", [&] {
        using col_t = std::conditional_t<std::is_same<scalar_t, double>::value, double, float>;
        const scalar_t* bias_ptr = bias_c.defined() ? bias_c.data_ptr<scalar_t>() : nullptr;
        for_each_chunk(cp, shape, [&](const Chunk& c) {
          at::Tensor columns =
              workspace.narrow(0, 0, c.samples * c.groups * c.channels * cs.taps * c.rows * cs.width);
          if (c.rows > 0) columns_gemm_cpu(p, options, cs, c, input, weight, folded_weights, columns);
          col2im_cpu<scalar_t, col_t>(p, options, cs, c, columns, bias_ptr, out);
        });
      });
}

}  // namespace gemm_convt
