#pragma once

// col2im on the GPU: one thread per work item (grid-stride), each gathering
// one output column of one stride phase through the shared col2im_column.
// Consecutive threads take consecutive output columns, so loads of one tap
// and the stores are coalesced. Deterministic: no atomics, every output
// element is written by exactly one thread.

#include <ATen/AccumulateType.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include "gemm_convt/col2im.h"

namespace gemm_convt {

constexpr int kCol2imThreads = 256;

template <typename scalar_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kCol2imThreads)
    col2im_kernel(const Col2imChunk<index_t> chunk, const col_t* __restrict__ columns,
                  const scalar_t* __restrict__ bias, scalar_t* __restrict__ out) {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/true>;
  const index_t total = chunk.items();
  const index_t step = index_t(blockDim.x) * index_t(gridDim.x);
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step)
    col2im_column<acc_t>(chunk, columns, bias, out, col2im_item(chunk, i));
}

template <typename scalar_t, typename col_t, typename index_t>
void launch_col2im(const Col2imChunk<index_t>& chunk, const col_t* columns,
                   const scalar_t* bias, scalar_t* out, int64_t blocks) {
  col2im_kernel<scalar_t, col_t, index_t>
      <<<static_cast<unsigned>(blocks), kCol2imThreads, 0,
         c10::cuda::getCurrentCUDAStream()>>>(chunk, columns, bias, out);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
