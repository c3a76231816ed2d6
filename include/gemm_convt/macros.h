#pragma once

// Geometry is written once and compiled for both the host (CPU path) and the
// device (CUDA kernel): under nvcc these functions become __host__ __device__.
#if defined(__CUDACC__)
#define GEMM_CONVT_HD __host__ __device__ __forceinline__
#else
#define GEMM_CONVT_HD inline
#endif
