// Shared by the wgmma probes (wgmma_rate_probe.cu, wgmma_fill_probe.cu): a CUDA call's
// error printed with its place, and the calling function (returning int) returns 1.
#pragma once
#include <cuda_runtime.h>

#include <cstdio>

#define CHECK(x)                                                       \
  do {                                                                 \
    cudaError_t e = (x);                                               \
    if (e != cudaSuccess) {                                            \
      printf("%s:%d %s\n", __FILE__, __LINE__, cudaGetErrorString(e)); \
      return 1;                                                        \
    }                                                                  \
  } while (0)
