#pragma once

// The forward's columns GEMM through cuBLASLt with a plan cached per shape.
// cublasGemmStridedBatchedEx runs its heuristic on every call and, for these
// short-K shapes (K = Cin), picks sm90 kernels that need a zeroed semaphore:
// a memset per call. Asking cuBLASLt once per shape for its first algorithm
// that needs no workspace skips both, and measured 5-15% faster kernels on
// fcn_up's and dcgan's chunk shapes (NOTES.md, session 8). No workspace also
// means no split-K: each output is summed by one tile in a fixed order, so
// results stay bitwise deterministic.

#include <ATen/ATen.h>

#include "columns_gemm.h"

namespace gemm_convt {

// c[b] = op(a[b]) · op(b[b]) for b < batch (beta = 0), as
// gemm_strided_batched. Returns false, having done nothing, where cuBLASLt
// offers no algorithm for the call; the caller then takes cuBLAS's path.
bool lt_gemm_strided_batched(at::ScalarType in_dtype, at::ScalarType out_dtype, int64_t m,
                             int64_t n, int64_t k, const MatrixRef& a, const MatrixRef& b,
                             void* c, int64_t ldc, int64_t c_batch_stride, int64_t batch,
                             bool allow_tf32);

}  // namespace gemm_convt
