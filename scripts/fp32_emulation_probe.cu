// Probe (written in session 28, not yet run): does cuBLAS's FP32 emulation
// (BF16x9, CUDA 12.9+) do anything on this GPU, and at what speed and error?
// Issue 6 item 4 names it as a route to float32 accuracy at tensor-core speed;
// NVIDIA describes it on Blackwell. For each GEMM shape: IEEE float32
// (CUBLAS_COMPUTE_32F_PEDANTIC), TF32, and the emulated compute type under the
// default and the eager emulation strategy; median of 10 CUDA-event timings
// after 3 warm-ups, and the relative error against float64 on 4096 sampled
// outputs. Emulation engaged shows as a time and an error unlike the IEEE row's.
//   nvcc -O2 -std=c++17 -arch=sm_90 fp32_emulation_probe.cu -lcublas -o probe && ./probe
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#define CHECK_CUDA(x)                                                          \
  do {                                                                         \
    cudaError_t e_ = (x);                                                      \
    if (e_ != cudaSuccess) {                                                   \
      std::printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e_), __FILE__, __LINE__); \
      std::exit(1);                                                            \
    }                                                                          \
  } while (0)

struct Shape {
  const char* name;
  int m, n, k;  // C (m x n, column-major) = A (m x k) . B (k x n)
};

struct Variant {
  const char* name;
  cublasComputeType_t compute;
  cublasEmulationStrategy_t strategy;
};

int main() {
  const Shape shapes[] = {
      {"kb71 columns (one sample)", 288, 524288, 32},
      {"fcn_up columns (one sample)", 4096, 4096, 256},
      {"square 4096", 4096, 4096, 4096},
  };
  const Variant variants[] = {
      {"IEEE (32F_PEDANTIC)", CUBLAS_COMPUTE_32F_PEDANTIC, CUBLAS_EMULATION_STRATEGY_DEFAULT},
      {"32F default", CUBLAS_COMPUTE_32F, CUBLAS_EMULATION_STRATEGY_DEFAULT},
      {"TF32 (32F_FAST_TF32)", CUBLAS_COMPUTE_32F_FAST_TF32, CUBLAS_EMULATION_STRATEGY_DEFAULT},
      {"BF16x9, default strategy", CUBLAS_COMPUTE_32F_EMULATED_16BFX9, CUBLAS_EMULATION_STRATEGY_DEFAULT},
      {"BF16x9, eager strategy", CUBLAS_COMPUTE_32F_EMULATED_16BFX9, CUBLAS_EMULATION_STRATEGY_EAGER},
  };
  cudaDeviceProp prop{};
  CHECK_CUDA(cudaGetDeviceProperties(&prop, 0));
  int version = 0;
  cublasHandle_t handle;
  if (cublasCreate(&handle) != CUBLAS_STATUS_SUCCESS) return std::printf("cublasCreate failed\n"), 1;
  cublasGetVersion(handle, &version);
  std::printf("%s (cc %d.%d), cuBLAS %d\n", prop.name, prop.major, prop.minor, version);
  std::mt19937 rng(7);
  std::normal_distribution<float> normal;
  cudaEvent_t t0, t1;
  CHECK_CUDA(cudaEventCreate(&t0));
  CHECK_CUDA(cudaEventCreate(&t1));
  for (const Shape& s : shapes) {
    const size_t a_n = size_t(s.m) * s.k, b_n = size_t(s.k) * s.n, c_n = size_t(s.m) * s.n;
    std::vector<float> a(a_n), b(b_n), c(c_n);
    for (float& v : a) v = normal(rng);
    for (float& v : b) v = normal(rng);
    float *da, *db, *dc;
    CHECK_CUDA(cudaMalloc(&da, a_n * 4));
    CHECK_CUDA(cudaMalloc(&db, b_n * 4));
    CHECK_CUDA(cudaMalloc(&dc, c_n * 4));
    CHECK_CUDA(cudaMemcpy(da, a.data(), a_n * 4, cudaMemcpyHostToDevice));
    CHECK_CUDA(cudaMemcpy(db, b.data(), b_n * 4, cudaMemcpyHostToDevice));
    // Sampled outputs and their float64 values.
    std::vector<size_t> sample(4096);
    std::vector<double> want(sample.size());
    std::uniform_int_distribution<size_t> pick(0, c_n - 1);
    for (size_t i = 0; i < sample.size(); ++i) {
      sample[i] = pick(rng);
      const size_t row = sample[i] % s.m, col = sample[i] / s.m;
      double sum = 0;
      for (int kk = 0; kk < s.k; ++kk) sum += double(a[row + size_t(kk) * s.m]) * double(b[kk + size_t(col) * s.k]);
      want[i] = sum;
    }
    const double gflop = 2.0 * s.m * double(s.n) * s.k / 1e9;
    std::printf("\n%s: m=%d n=%d k=%d (%.1f GFLOP)\n", s.name, s.m, s.n, s.k, gflop);
    for (const Variant& v : variants) {
      cublasSetEmulationStrategy(handle, v.strategy);
      const float one = 1.0f, zero = 0.0f;
      const auto gemm = [&] {
        return cublasGemmEx(handle, CUBLAS_OP_N, CUBLAS_OP_N, s.m, s.n, s.k, &one, da, CUDA_R_32F, s.m, db,
                            CUDA_R_32F, s.k, &zero, dc, CUDA_R_32F, s.m, v.compute, CUBLAS_GEMM_DEFAULT);
      };
      const cublasStatus_t status = gemm();
      if (status != CUBLAS_STATUS_SUCCESS) {
        std::printf("  %-28s cuBLAS status %d\n", v.name, int(status));
        continue;
      }
      for (int w = 0; w < 2; ++w) gemm();
      std::vector<float> ms(10);
      for (float& t : ms) {
        CHECK_CUDA(cudaEventRecord(t0));
        gemm();
        CHECK_CUDA(cudaEventRecord(t1));
        CHECK_CUDA(cudaEventSynchronize(t1));
        CHECK_CUDA(cudaEventElapsedTime(&t, t0, t1));
      }
      std::sort(ms.begin(), ms.end());
      CHECK_CUDA(cudaMemcpy(c.data(), dc, c_n * 4, cudaMemcpyDeviceToHost));
      double err = 0, ref = 0;
      for (size_t i = 0; i < sample.size(); ++i) {
        const double d = double(c[sample[i]]) - want[i];
        err += d * d, ref += want[i] * want[i];
      }
      std::printf("  %-28s %9.3f ms %8.1f TFLOP/s  rel err %.2e\n", v.name, ms[5], gflop / ms[5],
                  std::sqrt(err / ref));
    }
    CHECK_CUDA(cudaFree(da));
    CHECK_CUDA(cudaFree(db));
    CHECK_CUDA(cudaFree(dc));
  }
  cublasDestroy(handle);
  return 0;
}
