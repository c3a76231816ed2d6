// Shared by the cuBLASLt probes (lt_algos_probe.cu, lt_fold_probe.cu): their
// status check, shape, timing and the algorithm attributes they print.
#pragma once
#include <cublasLt.h>
#include <cublas_v2.h>
#include <cuda_runtime.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

// Probes return from run() on the first failed call.
#define CHECK(x) do { auto st_ = (x); if (st_ != 0) { printf("%s failed: %d (line %d)\n", #x, int(st_), __LINE__); return; } } while (0)

struct Shape { const char* name; int m, n, k; };

// Device microseconds of f on the default stream: median of 25 after 3 warm-ups.
template <typename F>
float median_us(F f) {
  for (int i = 0; i < 3; ++i) f();
  std::vector<float> t;
  cudaEvent_t a, b;
  cudaEventCreate(&a); cudaEventCreate(&b);
  for (int i = 0; i < 25; ++i) {
    cudaEventRecord(a, 0); f(); cudaEventRecord(b, 0); cudaEventSynchronize(b);
    float ms; cudaEventElapsedTime(&ms, a, b); t.push_back(ms * 1000);
  }
  std::sort(t.begin(), t.end());
  return t[t.size() / 2];
}

// Host microseconds per enqueue, 50 calls back to back (the queue does not fill).
template <typename F>
double host_us(F f) {
  cudaDeviceSynchronize();
  const auto t0 = std::chrono::steady_clock::now();
  for (int i = 0; i < 50; ++i) f();
  const auto t1 = std::chrono::steady_clock::now();
  cudaDeviceSynchronize();
  return std::chrono::duration<double, std::micro>(t1 - t0).count() / 50;
}

// An algorithm's configuration as the probes print it (-1: not reported).
struct AlgoConfig { int id = -1, tile = -1, stages = -1, splitk = -1, reduction = -1, cluster = -1; };

inline AlgoConfig algo_config(const cublasLtMatmulAlgo_t& algo) {
  AlgoConfig c;
  size_t w;
  cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_ID, &c.id, sizeof(c.id), &w);
  cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_TILE_ID, &c.tile, sizeof(c.tile), &w);
  cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_STAGES_ID, &c.stages, sizeof(c.stages), &w);
  cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_SPLITK_NUM, &c.splitk, sizeof(c.splitk), &w);
  cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_REDUCTION_SCHEME, &c.reduction,
                                       sizeof(c.reduction), &w);
  cublasLtMatmulAlgoConfigGetAttribute(&algo, CUBLASLT_ALGO_CONFIG_CLUSTER_SHAPE_ID, &c.cluster,
                                       sizeof(c.cluster), &w);
  return c;
}

// The handles a probe's run() takes: cuBLAS with a 32 MiB workspace, cuBLASLt,
// and that workspace for Lt's plans too.
struct ProbeHandles {
  cublasHandle_t blas;
  cublasLtHandle_t lt;
  void* ws;
  size_t ws_bytes;
};

inline ProbeHandles make_probe_handles() {
  ProbeHandles h;
  h.ws_bytes = size_t(32) << 20;
  cublasCreate(&h.blas);
  cublasLtCreate(&h.lt);
  cudaMalloc(&h.ws, h.ws_bytes);
  cublasSetWorkspace(h.blas, h.ws, h.ws_bytes);
  return h;
}
