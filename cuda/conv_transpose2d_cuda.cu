// CUDA backend: cuBLAS computes the columns chunk by chunk into a workspace
// from torch's caching allocator, then col2im gathers them into the output
// with the bias fused. 1x1 / stride 1 / no padding skips col2im entirely; so
// do the direct gather where its cost model picks it (direct_gather.cuh) and
// problems whose taps never overlap, by set_disjoint_taps's rule (disjoint_taps.cuh).

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/CUDAEvent.h>
#include <c10/cuda/CUDAGuard.h>

#include <cstdlib>
#include <vector>

#include "../csrc/conv_transpose2d.h"
#include "allocator_blocks.h"
#include "border_redo.cuh"
#include "col2im_kernel.cuh"
#include "columns_gemm.h"
#include "direct_gather.cuh"
#include "disjoint_taps.cuh"
#include "fold_operand.cuh"
#include "implicit_gemm.cuh"
#include "operand.cuh"
#include "side_streams.h"

namespace gemm_convt {
namespace {

bool is_direct_gemm(const Problem& p, const ConvTranspose2dOptions& o) {
  return p.kernel_h == 1 && p.kernel_w == 1 && o.stride[0] == 1 && o.stride[1] == 1 &&
         o.padding[0] == 0 && o.padding[1] == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
}

int64_t col2im_blocks(int64_t items) {
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t needed = (items + kCol2imThreads - 1) / kCol2imThreads;
  return std::max<int64_t>(1, std::min(needed, sms * 64));
}

// Whether col2im's block items may store whole blocks as vectors
// (VectorBlockStore): output columns contiguous, and every row of the chunk
// starting on a vector boundary.
template <typename scalar_t, typename col_t>
bool block_vector_stores(const Col2imChunk<int64_t>& k, const scalar_t* dst) {
  if (k.block_groups == 0 || k.out_stride_w != 1) return false;
  constexpr int kLanes1 = block_lanes(int(sizeof(col_t)), 1);
  constexpr int kLanes2 = block_lanes(int(sizeof(col_t)), 2);
  const int64_t values = k.block_groups == 1 ? output_run_values<1, kLanes1, scalar_t>()
                                             : output_run_values<2, kLanes2, scalar_t>();
  return k.out_stride_n % values == 0 && k.out_stride_c % values == 0 &&
         k.out_stride_h % values == 0 &&
         reinterpret_cast<uintptr_t>(dst) % (values * sizeof(scalar_t)) == 0;
}

template <typename scalar_t, typename col_t>
void col2im_chunk(const Problem& p, const ConvTranspose2dOptions& o, const ColumnsShape& cs,
                  const Chunk& c, const ColumnsLayout& layout, const at::Tensor& columns,
                  const scalar_t* bias, at::Tensor& out) {
  const col_t* cols = static_cast<const col_t*>(columns.data_ptr());
  scalar_t* dst = out.data_ptr<scalar_t>() + chunk_out_offset(p, c, out);
  const scalar_t* chunk_bias = bias ? bias + chunk_first_channel(p, c) : nullptr;
  // Enough work items for four waves of full occupancy, each walking the
  // cells that leaves (its taps found once).
  const auto* props = at::cuda::getCurrentDeviceProperties();
  const int64_t target_items = int64_t(props->multiProcessorCount) *
                               props->maxThreadsPerMultiProcessor * 4;
  // Block items load whole vectors: the columns must start on a 16-byte boundary.
  const bool blocks = o.col2im_blocks && reinterpret_cast<uintptr_t>(cols) % 16 == 0;
  auto chunk64 = make_col2im_chunk<int64_t>(p, o, cs, c, layout, out, target_items,
                                            sizeof(col_t), blocks);
  chunk64.block_vector_stores = block_vector_stores<scalar_t, col_t>(chunk64, dst);
  const int64_t blocks_needed = col2im_blocks(chunk64.items());
  // 32-bit index arithmetic whenever every offset of the chunk fits.
  if (chunk_fits<int32_t>(p, o, cs, c, out, blocks_needed * kCol2imThreads)) {
    auto chunk32 = make_col2im_chunk<int32_t>(p, o, cs, c, layout, out, target_items,
                                              sizeof(col_t), blocks);
    chunk32.block_vector_stores = chunk64.block_vector_stores;
    launch_col2im(chunk32, cols, chunk_bias, dst, blocks_needed);
  } else {
    launch_col2im(chunk64, cols, chunk_bias, dst, blocks_needed);
  }
}

// Bytes of columns per chunk. Columns that fit the cap are made in one go;
// otherwise two chunks are in flight, each in half the cap. Chunks are as large
// as that allows: the halo rows of small bands cost GEMM work, and cuBLAS runs
// small GEMMs far below its rate (L2-sized 8 MiB chunks ran #71 at 2.2x the
// time of 32 MiB ones: NOTES.md). GEMM_CONVT_CHUNK_BYTES lowers it (probes).
int64_t chunk_budget_bytes(int64_t workspace_bytes, int64_t total_bytes) {
  static const int64_t override_bytes = [] {
    const char* v = std::getenv("GEMM_CONVT_CHUNK_BYTES");
    return v ? std::max<int64_t>(1, std::atoll(v)) : int64_t(0);
  }();
  int64_t budget = total_bytes <= workspace_bytes ? workspace_bytes : workspace_bytes / 2;
  if (override_bytes) budget = std::min(budget, override_bytes);
  return std::max<int64_t>(1, budget);
}

}  // namespace

void conv_transpose2d_cuda(const at::Tensor& input, const at::Tensor& weight_in,
                           const c10::optional<at::Tensor>& bias_in, at::Tensor& out,
                           const ConvTranspose2dOptions& options) {
  Problem p(input, weight_in, options);
  p.out_rows_contiguous = out.stride(3) == 1;
  const at::Tensor weight = weight_in.contiguous();
  const at::Tensor bias = (bias_in.has_value() && bias_in->defined()) ? bias_in->contiguous()
                                                                       : at::Tensor();
  const InputOperand x = input_operand(input, p.in_per_group);

  if (is_direct_gemm(p, options)) {
    if (bias.defined()) out.copy_(bias.view({1, -1, 1, 1}).expand_as(out));
    direct_gemm_cuda(p, x, weight, out, bias.defined(), options.allow_tf32);
    return;
  }
  // A forced gather keeps its place before the implicit GEMM's cost model.
  if ((options.implicit_gemm > 0 || options.direct_gather <= 0) &&
      implicit_gemm_applies(p, options, input.scalar_type())) {
    implicit_gemm_cuda(p, options, input, weight, bias, out);
    // Flagged after the products are queued (only redo_if_flagged reads the flags): on an
    // idle GPU the host's work before the first products is time the GPU waits.
    const at::Tensor weight_flags = flag_non_finite_weight(weight);  // its padding is zeros
    redo_if_flagged(p, options, input, weight, bias, weight_flags, out);
    return;
  }
  if (direct_gather_applies(p, options, input.scalar_type())) {  // predicted faster
    direct_gather_cuda(p, options, input, weight, bias, out);
    return;
  }
  if (disjoint_taps_applies(p, options, input, weight)) {  // col2im would be a permutation
    disjoint_taps_cuda(p, options, input, weight, bias, out);
    return;
  }

  const at::ScalarType dtype = input.scalar_type();
  const auto col_dtype = column_dtype(dtype, options.float_columns);
  const int64_t col_esize = c10::elementSize(col_dtype), esize = input.element_size();
  // The A operand is made per chunk when the width is folded (fold_operand.cuh)
  // or the float32 operands are split (operand.cuh); the budget covers it and
  // the columns. Split operands are folded wherever the fold applies (unless
  // set_width_folding(False)): K-major, as cuBLAS's sm90 TF32 kernels take them.
  const bool split = split_tf32_takes(p, options, dtype);
  const ColumnsShape cs(p, options, split || width_fold_pays(p, options, dtype, x.channel_major));
  const int64_t total_bytes =
      p.batch * p.out_channels() * cs.taps * p.in_h * cs.width * col_esize;
  const bool fold = cs.fold_w;
  const bool made = split || fold;
  const int64_t a_k = cs.k_per_group * (split ? 3 : 1);  // contraction per group
  const int64_t col_rows = p.out_per_group * cs.taps;
  // TF32 columns GEMMs read the weight K-major (a transposed copy per call):
  // cuBLAS then runs sm90 kernels, e.g. dcgan's 250 -> 157 us; other dtypes
  // got the same kernels either way (NOTES.md it11).
  const bool k_major_weight = !made && dtype == at::kFloat && options.allow_tf32;
  // Weight-shaped operands made per call (transposed, folded, split: up to 4
  // copies alive at once) and the fold's weight flags come out of the cap first.
  const int64_t weight_copy_elems =
      fold ? folded_weight_elems(p, cs.fold, split ? 3 : 1)
      : split ? 4 * weight.numel()
      : k_major_weight ? weight.numel() : 0;
  const int64_t flag_bytes = fold ? non_finite_flag_bytes(weight) : 0;
  const int64_t fixed_bytes = allocator_held_bytes(weight_copy_elems * esize) + flag_bytes;
  int64_t cap = std::max<int64_t>(1, options.workspace_bytes - fixed_bytes);
  // Plain operands: a chunk's samples sit side by side in its columns, one
  // GEMM per group for them all (a dcgan sample has 64 pixels: per-sample
  // GEMMs are mostly tile edges). An NCHW input is then repacked per chunk,
  // in the budget too.
  const bool side_by_side = !made;
  const ChunkProblem cp = cs.chunk_problem(p, options);
  int64_t first_row = 0, live_rows = 0;  // input rows that reach the output
  input_rows_of(cp, 0, p.out_h, &first_row, &live_rows);
  const bool needs_pack = side_by_side && input_needs_pack(p, x, live_rows);
  const auto plan = [&](int64_t budget) {  // columns (+ made A, + packed input) in budget bytes
    if (made) budget = budget * col_rows * col_esize / (col_rows * col_esize + a_k * esize);
    ChunkShape planned = plan_chunks(cp, std::max<int64_t>(1, budget / col_esize));
    if (needs_pack && planned.samples > 1) {
      const int64_t col_bytes = p.out_channels() * cs.taps * col_esize;
      const int64_t pack_bytes = p.in_channels * esize;
      planned = plan_chunks(
          cp, std::max<int64_t>(1, budget * col_bytes / (col_bytes + pack_bytes) / col_esize));
    }
    return planned;
  };
  std::vector<Chunk> chunks;
  const auto plan_and_list = [&](int64_t budget) {
    const ChunkShape planned = plan(budget);
    chunks.clear();
    for_each_chunk(cp, planned, [&](const Chunk& c) { chunks.push_back(c); });
    return planned;
  };
  // One buffer when everything fits the cap in one chunk, else two halves.
  const auto plan_within = [&](int64_t cap_bytes) {
    const int64_t whole = chunk_budget_bytes(cap_bytes, total_bytes), half = chunk_budget_bytes(cap_bytes, cap_bytes + 1);
    ChunkShape planned = plan_and_list(whole);
    if (whole > half && chunks.size() > 1) planned = plan_and_list(half);
    return planned;
  };
  // Elements of one buffer of each kind a plan allocates: columns, made A, packed input.
  struct BufferElems {
    int64_t columns, a, pack;
  };
  const auto buffer_elems_of = [&](const ChunkShape& s) {
    return BufferElems{s.elems(cp), made ? s.samples * p.groups * a_k * s.max_rows * cs.width : 0,
                       needs_pack && s.samples > 1 ? p.in_channels * s.samples * p.in_pixels() : 0};
  };
  // What the allocator holds for the buffers (allocator_blocks.h): a plan whose buffers sit
  // just under a 2 MiB multiple holds the multiple, so it is planned again under a smaller
  // cap until the whole fits the workspace (dcgan: 27 samples a buffer held 64 MiB + 4 KiB).
  const auto held_bytes = [&](const ChunkShape& s) {
    const int64_t n = chunks.size() > 1 ? 2 : 1;
    const BufferElems e = buffer_elems_of(s);
    return fixed_bytes + allocator_held_bytes(n * e.columns * col_esize) +
           allocator_held_bytes(n * e.a * esize) + allocator_held_bytes(n * e.pack * esize);
  };
  ChunkShape shape = plan_within(cap);
  for (int again = 0; again < 4 && cap > 1; ++again) {
    const int64_t over = held_bytes(shape) - options.workspace_bytes;
    if (over <= 0) break;
    cap = std::max<int64_t>(1, cap - std::max(over, std::min(kAllocatorSegment, cap / 8)));
    shape = plan_within(cap);
  }

  // Two chunks in flight, each with its own part of the workspace and its own
  // stream: the GEMM of one overlaps the col2im of the other. Each stream's
  // order keeps a buffer's GEMM after the col2im that last read it.
  const int64_t buffers = chunks.size() > 1 ? 2 : 1;
  const BufferElems planned_elems = buffer_elems_of(shape);
  const int64_t buffer_elems = planned_elems.columns, a_elems = planned_elems.a,
                pack_elems = planned_elems.pack;
  at::Tensor workspace = at::empty({buffers * buffer_elems}, input.options().dtype(col_dtype));
  at::Tensor a_workspace = made ? at::empty({buffers * a_elems}, input.options()) : at::Tensor();
  at::Tensor pack_workspace = pack_elems ? at::empty({buffers * pack_elems}, input.options()) : at::Tensor();
  // B to pair with a made A: the weight per phase when folded, split when split.
  const Axis<int64_t> w_axis = width_axis<int64_t>(p, options);
  const FoldPhases phases = fold ? fold_phases(w_axis, cs.fold) : FoldPhases{};
  at::Tensor b_operand = fold ? fold_weight_cuda(p, w_axis, cs, phases, split, weight) : weight;
  if (split && !fold) {
    at::Tensor stacked = at::empty({p.groups * a_k * col_rows}, input.options());
    make_split_operand_cuda(OperandSource{b_operand.data_ptr(), 1, p.groups, cs.k_per_group, 1, 0,
                                          cs.k_per_group * col_rows, col_rows, 0, 1},
                            col_rows, SplitOrder::weight, stacked.data_ptr());
    b_operand = stacked;
  }
  const at::Tensor plain_weight = k_major_weight ? weight_rows_k_major(p, weight) : weight;
  // The chunks run on side streams even where there is one buffer: their cuBLAS
  // calls can then be replayed from graphs (gemm_graphs.h), which the legacy
  // default stream does not allow.
  const SideStreamLock side_lock;  // held until the caller's stream has joined
  const c10::cuda::CUDAStream origin = c10::cuda::getCurrentCUDAStream();
  const std::vector<c10::cuda::CUDAStream> streams = side_streams(buffers);
  {
    at::cuda::CUDAEvent start;
    start.record(origin);
    for (const auto& stream : streams) start.block(stream);
  }
  // The fold's unfold is zero where a tap misses: its weight check runs on the
  // caller's stream beside the chunks, its redo after them (border_redo.cuh).
  const at::Tensor weight_flags = fold ? flag_non_finite_weight(weight) : at::Tensor();

  // Each buffer's views made once, not per chunk (a torch view op costs ~3 us
  // of host time, and small problems are bound by it: NOTES.md, session 8).
  std::vector<at::Tensor> column_buffers, pack_buffers;
  for (int64_t b = 0; b < buffers; ++b) {
    column_buffers.push_back(workspace.narrow(0, b * buffer_elems, buffer_elems));
    pack_buffers.push_back(pack_elems ? pack_workspace.narrow(0, b * pack_elems, pack_elems)
                                      : at::Tensor());
  }

  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, dtype, "gemm_convt_cuda", [&] {
        const scalar_t* bias_ptr = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
        for (size_t i = 0; i < chunks.size(); ++i) {
          const Chunk& c = chunks[i];
          const int64_t b = int64_t(i) % buffers;
          const c10::cuda::CUDAStreamGuard on_stream(streams[b]);
          at::Tensor& columns = column_buffers[b];
          if (c.rows > 0 && made) {
            const int64_t pixel_stride = x.pixel_stride();
            char* a = static_cast<char*>(a_workspace.data_ptr()) + b * a_elems * esize;
            const int64_t group_stride = p.in_per_group * x.channel_stride;
            // The folded A holds the chunk's groups, the split A every group.
            const char* base = x.chunk_base(c, p.in_w, esize);
            const OperandSource rows{fold ? base + c.g0 * group_stride * esize : base,
                                     c.samples, fold ? c.groups : p.groups, p.in_per_group,
                                     c.rows, x.sample_stride, group_stride, x.channel_stride,
                                     p.in_w * pixel_stride, pixel_stride};
            if (fold) {
              unfold_phases_cuda(dtype, rows, w_axis, cs.fold, phases, split, a);
              columns_gemm_folded_cuda(p, cs, c, a, b_operand.data_ptr(), a_k, dtype, columns,
                                       options.allow_tf32 || split);
            } else {
              make_split_operand_cuda(rows, p.in_w, SplitOrder::input, a);
              columns_gemm_made_cuda(p, cs, c, a, b_operand.data_ptr(), a_k, dtype, columns, true);
            }
          } else if (c.rows > 0) {
            columns_gemm_side_by_side_cuda(p, c, chunk_input_operand(p, c, x, pack_buffers[b]),
                                           plain_weight, k_major_weight, columns,
                                           options.allow_tf32);
          }
          const ColumnsLayout layout = columns_layout(cs, c, side_by_side);
          if (col_dtype == at::kFloat && dtype != at::kFloat)
            col2im_chunk<scalar_t, float>(p, options, cs, c, layout, columns, bias_ptr, out);
          else
            col2im_chunk<scalar_t, scalar_t>(p, options, cs, c, layout, columns, bias_ptr, out);
        }
      });

  for (const auto& s : streams) {  // the caller's stream waits for both
    at::cuda::CUDAEvent done;
    done.record(s);
    done.block(origin);
  }
  if (fold) redo_if_flagged(p, options, input, weight, bias, weight_flags, out);
}

}  // namespace gemm_convt
