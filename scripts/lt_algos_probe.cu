// Which cuBLASLt algorithms run the forward's columns GEMM fastest? For each
// shape (column-major C[m x n] = A[m x k] * B[k x n], A pixel-major as the
// NCHW input, B K-major as the weight copy, TF32), times every algorithm the
// heuristic offers beside cublasGemmEx's default choice.
//   nvcc -O2 -o /tmp/lt scripts/lt_algos_probe.cu -lcublasLt -lcublas && /tmp/lt
#include "lt_probe_util.cuh"

void run(const Shape& s, cublasHandle_t blas, cublasLtHandle_t lt, void* ws, size_t ws_bytes) {
  float *A, *B, *C;
  cudaMalloc(&A, sizeof(float) * size_t(s.m) * s.k);
  cudaMalloc(&B, sizeof(float) * size_t(s.k) * s.n);
  cudaMalloc(&C, sizeof(float) * size_t(s.m) * s.n);
  cudaMemset(A, 0, sizeof(float) * size_t(s.m) * s.k);
  cudaMemset(B, 0, sizeof(float) * size_t(s.k) * s.n);
  const float alpha = 1, beta = 0;
  const double gflop = 2.0 * s.m * s.n * s.k / 1e9;
  cublasSetMathMode(blas, CUBLAS_TF32_TENSOR_OP_MATH);
  float t0 = median_us([&] {
    cublasGemmEx(blas, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &alpha, A, CUDA_R_32F, s.m, B,
                 CUDA_R_32F, s.k, &beta, C, CUDA_R_32F, s.m, CUBLAS_COMPUTE_32F_FAST_TF32,
                 CUBLAS_GEMM_DEFAULT);
  });
  printf("%-10s m=%d n=%d k=%d  cublasGemmEx default %8.1f us %6.1f TFLOP/s\n", s.name, s.m, s.n,
         s.k, t0, gflop / t0 * 1e3);
  cublasLtMatmulDesc_t op;
  CHECK(cublasLtMatmulDescCreate(&op, CUBLAS_COMPUTE_32F_FAST_TF32, CUDA_R_32F));
  cublasLtMatrixLayout_t a, b, c;
  CHECK(cublasLtMatrixLayoutCreate(&a, CUDA_R_32F, s.m, s.k, s.m));
  CHECK(cublasLtMatrixLayoutCreate(&b, CUDA_R_32F, s.k, s.n, s.k));
  CHECK(cublasLtMatrixLayoutCreate(&c, CUDA_R_32F, s.m, s.n, s.m));
  cublasLtMatmulPreference_t pref;
  CHECK(cublasLtMatmulPreferenceCreate(&pref));
  CHECK(cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES,
                                             &ws_bytes, sizeof(ws_bytes)));
  cublasLtMatmulHeuristicResult_t res[32];
  int found = 0;
  CHECK(cublasLtMatmulAlgoGetHeuristic(lt, op, a, b, c, c, pref, 32, res, &found));
  for (int i = 0; i < found; ++i) {
    const AlgoConfig cfg = algo_config(res[i].algo);
    float t = median_us([&] {
      cublasLtMatmul(lt, op, &alpha, A, a, B, b, &beta, C, c, C, c, &res[i].algo, ws, ws_bytes, 0);
    });
    printf("    lt #%2d algo %3d tile %3d stages %3d splitk %2d red %d ws %8zu  %8.1f us %6.1f TFLOP/s\n",
           i, cfg.id, cfg.tile, cfg.stages, cfg.splitk, cfg.reduction, res[i].workspaceSize, t, gflop / t * 1e3);
  }
  cudaFree(A); cudaFree(B); cudaFree(C);
}

int main() {
  const ProbeHandles h = make_probe_handles();
  const Shape shapes[] = {{"fcn_up", 1472, 4096, 256}, {"fcn_up30", 1920, 4096, 256},
                          {"dcgan", 1536, 4096, 512}, {"unet_up", 32768, 256, 128},
                          {"kb81", 8192, 576, 32}, {"kb71", 16384, 288, 32}};
  for (const Shape& s : shapes) run(s, h.blas, h.lt, h.ws, h.ws_bytes);
  return 0;
}
