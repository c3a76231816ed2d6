// CUDA backend: cuBLAS computes the columns chunk by chunk into a workspace
// from torch's caching allocator, then col2im gathers them into the output
// with the bias fused. 1x1 / stride 1 / no padding skips col2im entirely.

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>

#include "../csrc/conv_transpose2d.h"
#include "col2im_kernel.cuh"
#include "columns_gemm.h"

namespace gemm_convt {
namespace {

bool is_direct_gemm(const Problem& p, const ConvTranspose2dOptions& o) {
  return p.kernel_h == 1 && p.kernel_w == 1 && o.stride[0] == 1 && o.stride[1] == 1 &&
         o.padding[0] == 0 && o.padding[1] == 0 && p.out_h == p.in_h && p.out_w == p.in_w;
}

int64_t col2im_blocks(int64_t elements) {
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t needed = (elements + kCol2imThreads - 1) / kCol2imThreads;
  return std::max<int64_t>(1, std::min(needed, sms * 16));
}

template <typename scalar_t, typename col_t>
void col2im_chunk(const Problem& p, const ConvTranspose2dOptions& o, const Chunk& c,
                  const at::Tensor& columns, const scalar_t* bias, at::Tensor& out) {
  const int64_t elements = c.samples * c.groups * c.channels * p.out_h * p.out_w;
  const int64_t blocks = col2im_blocks(elements);
  const col_t* cols = columns.data_ptr<col_t>();
  scalar_t* dst = out.data_ptr<scalar_t>() + chunk_out_offset(p, c, out);
  const scalar_t* chunk_bias = bias ? bias + chunk_first_channel(p, c) : nullptr;
  // 32-bit index arithmetic whenever every offset of the chunk fits.
  if (chunk_fits<int32_t>(p, c, out, blocks * kCol2imThreads))
    launch_col2im(make_col2im_chunk<int32_t>(p, o, c, out), cols, chunk_bias, dst, blocks);
  else
    launch_col2im(make_col2im_chunk<int64_t>(p, o, c, out), cols, chunk_bias, dst, blocks);
}

}  // namespace

void conv_transpose2d_cuda(const at::Tensor& input, const at::Tensor& weight_in,
                           const c10::optional<at::Tensor>& bias_in, at::Tensor& out,
                           const ConvTranspose2dOptions& options) {
  const Problem p(input, weight_in, options);
  const at::Tensor weight = weight_in.contiguous();
  const at::Tensor bias = (bias_in.has_value() && bias_in->defined()) ? bias_in->contiguous()
                                                                       : at::Tensor();
  const InputOperand x = input_operand(input, p.in_per_group);

  if (is_direct_gemm(p, options)) {
    if (bias.defined()) out.copy_(bias.view({1, -1, 1, 1}).expand_as(out));
    direct_gemm_cuda(p, x, weight, out, bias.defined(), options.allow_tf32);
    return;
  }

  const auto col_dtype = column_dtype(input.scalar_type());
  const ChunkShape shape = p.chunk_shape(options.workspace_bytes, c10::elementSize(col_dtype));
  at::Tensor workspace = at::empty(
      {shape.samples * shape.groups * shape.channels * p.plane_elems()},
      input.options().dtype(col_dtype));

  AT_DISPATCH_FLOATING_TYPES_AND2(
      at::kHalf, at::kBFloat16, input.scalar_type(), "gemm_convt_cuda", [&] {
        using col_t = std::conditional_t<std::is_same<scalar_t, double>::value, double, float>;
        const scalar_t* bias_ptr = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
        for_each_chunk(shape, p.batch, p.groups, p.out_per_group, [&](const Chunk& c) {
          columns_gemm_cuda(p, c, x, weight, workspace, options.allow_tf32);
          col2im_chunk<scalar_t, col_t>(p, options, c, workspace, bias_ptr, out);
        });
      });
}

}  // namespace gemm_convt
