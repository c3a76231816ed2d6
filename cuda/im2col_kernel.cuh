#pragma once

// im2col of grad_output on the GPU: one thread per column element
// (grid-stride), through the shared per-element step. Consecutive threads
// write consecutive columns (input pixels of one kernel tap): coalesced
// stores, strided reads of grad_output. No atomics.

#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAStream.h>

#include "gemm_convt/im2col.h"

namespace gemm_convt {

constexpr int kIm2colThreads = 256;

template <typename src_t, typename col_t, typename index_t>
__global__ void __launch_bounds__(kIm2colThreads)
    im2col_kernel(const Im2colChunk<index_t> chunk, const src_t* __restrict__ src,
                  col_t* __restrict__ columns) {
  const index_t total = chunk.numel();
  const index_t step = index_t(blockDim.x) * index_t(gridDim.x);
  for (index_t i = index_t(blockIdx.x) * blockDim.x + threadIdx.x; i < total; i += step)
    im2col_element(chunk, src, columns, i);
}

template <typename src_t, typename col_t, typename index_t>
void launch_im2col(const Im2colChunk<index_t>& chunk, const src_t* src, col_t* columns,
                   int64_t blocks) {
  im2col_kernel<src_t, col_t, index_t>
      <<<static_cast<unsigned>(blocks), kIm2colThreads, 0,
         c10::cuda::getCurrentCUDAStream()>>>(chunk, src, columns);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
