// The folded columns GEMM (both operands K-major: C[m x n] = A^T B with A stored
// k x m and B k x n, TF32, batched over two phases whose planes interleave in C, as
// columns_gemm_folded_cuda calls it) through cublasGemmStridedBatchedEx and through each algorithm
// cuBLASLt's heuristic offers with and without workspace: device time of each
// and the host time of enqueuing one call, to see whether a cached no-workspace
// Lt plan could run the fold's GEMM on sm90 kernels at cuBLAS's speed with less
// host time per chunk (NOTES.md, session 20, "Next session").
//   nvcc -std=c++17 -O2 -o /tmp/ltf scripts/lt_fold_probe.cu -lcublasLt -lcublas && /tmp/ltf
#include <utility>

#include "lt_probe_util.cuh"

constexpr int kPhases = 2;  // batched over the phases, planes interleaved in C as the fold writes them

// Values in [-1, 1) from a hash of the index: tensor cores draw (and clock) by the
// data, so zeros would flatter the kernels (session 20's first run used zeros).
__global__ void fill_random(float* p, size_t n, unsigned seed) {
  for (size_t i = blockIdx.x * size_t(blockDim.x) + threadIdx.x; i < n; i += size_t(gridDim.x) * blockDim.x) {
    unsigned h = unsigned(i) * 2654435761u ^ seed;
    h ^= h >> 16; h *= 2246822519u; h ^= h >> 13;
    p[i] = float(h & 0xffffff) / float(1 << 23) - 1.0f;
  }
}

void run(const Shape& s, cublasHandle_t blas, cublasLtHandle_t lt, void* ws, size_t ws_bytes) {
  float *A, *B, *C;
  const size_t a_n = size_t(s.m) * s.k, b_n = size_t(s.k) * s.n, c_n = size_t(s.m) * s.n;
  cudaMalloc(&A, sizeof(float) * a_n * kPhases);
  cudaMalloc(&B, sizeof(float) * b_n * kPhases);
  cudaMalloc(&C, sizeof(float) * c_n * kPhases);
  fill_random<<<1024, 256>>>(A, a_n * kPhases, 1u);
  fill_random<<<1024, 256>>>(B, b_n * kPhases, 2u);
  const float alpha = 1, beta = 0;
  const double gflop = 2.0 * s.m * s.n * s.k * kPhases / 1e9;
  cublasSetMathMode(blas, CUBLAS_TF32_TENSOR_OP_MATH);
  auto gemm_ex = [&] {
    cublasGemmStridedBatchedEx(blas, CUBLAS_OP_T, CUBLAS_OP_N, s.m, s.n, s.k, &alpha, A, CUDA_R_32F,
                               s.k, a_n, B, CUDA_R_32F, s.k, b_n, &beta, C, CUDA_R_32F,
                               kPhases * s.m, s.m, kPhases, CUBLAS_COMPUTE_32F_FAST_TF32,
                               CUBLAS_GEMM_DEFAULT);
  };
  const float t0 = median_us(gemm_ex);
  printf("%-10s m=%d n=%d k=%d x%d  cublasGemmStridedBatchedEx %8.1f us %6.1f TFLOP/s, host %.1f us\n", s.name, s.m,
         s.n, s.k, kPhases, t0, gflop / t0 * 1e3, host_us(gemm_ex));
  cublasLtMatmulDesc_t op;
  CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F));
  const int32_t trans = CUBLAS_OP_T;
  CHECK(cublasLtMatmulDescSetAttribute(op, CUBLASLT_MATMUL_DESC_TRANSA, &trans, sizeof(trans)));
  cublasLtMatrixLayout_t a, b, c;
  CHECK(cublasLtMatrixLayoutCreate(&a, CUDA_R_32F, s.k, s.m, s.k));
  CHECK(cublasLtMatrixLayoutCreate(&b, CUDA_R_32F, s.k, s.n, s.k));
  CHECK(cublasLtMatrixLayoutCreate(&c, CUDA_R_32F, s.m, s.n, kPhases * s.m));
  const int32_t batch = kPhases;
  const int64_t stride_a = int64_t(a_n), stride_b = int64_t(b_n), stride_c = s.m;
  for (auto [layout, stride] : {std::pair{a, stride_a}, std::pair{b, stride_b}, std::pair{c, stride_c}}) {
    CHECK(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, &batch, sizeof(batch)));
    CHECK(cublasLtMatrixLayoutSetAttribute(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, &stride, sizeof(stride)));
  }
  for (size_t limit : {size_t(0), ws_bytes}) {
    cublasLtMatmulPreference_t pref;
    CHECK(cublasLtMatmulPreferenceCreate(&pref));
    CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                               &limit, sizeof(limit)));
    cublasLtMatmulHeuristicResult_t res[16];
    int found = 0;
    CHECK(cublasLtMatmulAlgoGetHeuristic(lt, op, a, b, c, c, pref, 16, res, &found));
    printf("  workspace limit %zu: %d algorithms\n", limit, found);
    for (int i = 0; i < found && i < 8; ++i) {
      const AlgoConfig cfg = algo_config(res[i].algo);
      auto lt_call = [&] {
        cublasLtMatmul(lt, op, &alpha, A, a, B, b, &beta, C, c, C, c, &res[i].algo, ws,
                       res[i].workspaceSize, 0);
      };
      const float t = median_us(lt_call);
      printf("    #%d algo %3d tile %3d stages %3d splitk %2d cluster %3d ws %8zu  %8.1f us %6.1f TFLOP/s, host %.1f us\n",
             i, cfg.id, cfg.tile, cfg.stages, cfg.splitk, cfg.cluster, res[i].workspaceSize, t, gflop / t * 1e3, host_us(lt_call));
    }
    cublasLtMatmulPreferenceDestroy(pref);
  }
  cudaFree(A); cudaFree(B); cudaFree(C);
}

int main() {
  const ProbeHandles h = make_probe_handles();
  // One phase of a folded chunk: m = positions, n = out channels * kh, k = in channels * slots.
  const Shape shapes[] = {{"fcn_up", 2048, 1024, 512}, {"k4s2_128", 2048, 512, 256},
                          {"k4s2_192", 2048, 768, 384}, {"k3s1_64", 4096, 192, 192}};
  for (const Shape& s : shapes) run(s, h.blas, h.lt, h.ws, h.ws_bytes);
  return 0;
}
