// Unit check (session 27) of the wgmma helpers; was: Probe (session 27): can wgmma (sm_90a) run the implicit GEMM's split float32
// (three TF32 products) faster than the library's mma.sync kernel?
// Standalone: a stride-1 transposed convolution (no padding) laid out as the
// library's implicit GEMM lays it out: a block takes 64 * kWgM output
// positions of one output row x 64 output channels; per landing row tap and 16
// input channels it stages the input row segment ([column][channel], 80-byte
// rows: ldmatrix fragments, as implicit_gemm.cu) and, per width tap, the
// weight's TF32 high and low parts (core matrices, the wgmma B operand).
// Each warpgroup loads its A fragments (the input, shifted per tap) with
// ldmatrix, splits them in registers and issues lo x hi, hi x lo, hi x hi.
// Checks against float64, then times kb69 (and a TF32 one-product variant).
//   nvcc -O3 -std=c++17 -gencode=arch=compute_90a,code=sm_90a wgmma_split_probe.cu
#include <cuda_runtime.h>

#include <algorithm>
#include <cmath>
#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <random>
#include <vector>

#include "../cuda/ptx.cuh"

using namespace gemm_convt;

#define CHECK(x)                                                                              \
  do {                                                                                        \
    cudaError_t e = (x);                                                                      \
    if (e != cudaSuccess) {                                                                   \
      printf("CUDA error %s at %s:%d\n", cudaGetErrorString(e), __FILE__, __LINE__);         \
      exit(1);                                                                                \
    }                                                                                         \
  } while (0)

constexpr int kChunkK = 16, kLd = 20, kN = 64;

struct Geo {
  int n, cin, cout, kh, kw, h, w, oh, ow, m_tiles, a_rows;
};

__device__ __forceinline__ void ldsm_x4(uint32_t address, uint32_t (&r)[4]) {
  asm volatile("ldmatrix.sync.aligned.m8n8.x4.shared.b16 {%0,%1,%2,%3}, [%4];\n"
               : "=r"(r[0]), "=r"(r[1]), "=r"(r[2]), "=r"(r[3])
               : "r"(address));
}
// No-swizzle K-major: core matrices of 8 rows x 16 bytes; lbo steps along K, sbo along N.
__device__ __forceinline__ uint64_t smem_desc(uint32_t address, uint32_t lbo, uint32_t sbo) {
  return uint64_t((address & 0x3FFFF) >> 4) | (uint64_t(lbo >> 4) << 16) | (uint64_t(sbo >> 4) << 32);
}
__device__ __forceinline__ void wg_fence() { asm volatile("wgmma.fence.sync.aligned;\n" ::: "memory"); }
__device__ __forceinline__ void wg_commit() { asm volatile("wgmma.commit_group.sync.aligned;\n" ::: "memory"); }
template <int N>
__device__ __forceinline__ void wg_wait() {
  asm volatile("wgmma.wait_group.sync.aligned %0;\n" ::"n"(N) : "memory");
}
__device__ __forceinline__ void wgmma_n64(float (&d)[32], const uint32_t (&a)[4], uint64_t b) {
  asm volatile(
      "{\n.reg .pred p;\nsetp.ne.b32 p, %37, 0;\n"
      "wgmma.mma_async.sync.aligned.m64n64k8.f32.tf32.tf32 {%0, %1, %2, %3, %4, %5, %6, %7, %8, %9, %10, %11, %12, %13, %14, %15, %16, %17, %18, %19, %20, %21, %22, %23, %24, %25, %26, %27, %28, %29, %30, %31}, {%32, %33, %34, %35}, %36, p, 1, 1;\n}\n"
      : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "l"(b), "r"(1));
}
__device__ __forceinline__ void keep(float (&d)[32]) {
  asm volatile("" : "+f"(d[0]), "+f"(d[1]), "+f"(d[2]), "+f"(d[3]), "+f"(d[4]), "+f"(d[5]), "+f"(d[6]), "+f"(d[7]), "+f"(d[8]), "+f"(d[9]), "+f"(d[10]), "+f"(d[11]), "+f"(d[12]), "+f"(d[13]), "+f"(d[14]), "+f"(d[15]), "+f"(d[16]), "+f"(d[17]), "+f"(d[18]), "+f"(d[19]), "+f"(d[20]), "+f"(d[21]), "+f"(d[22]), "+f"(d[23]), "+f"(d[24]), "+f"(d[25]), "+f"(d[26]), "+f"(d[27]), "+f"(d[28]), "+f"(d[29]), "+f"(d[30]), "+f"(d[31]) :: "memory");
}
__device__ __forceinline__ void keep(uint32_t (&a)[4]) {
  asm volatile("" : "+r"(a[0]), "+r"(a[1]), "+r"(a[2]), "+r"(a[3])::"memory");
}


// One warpgroup, one m64n64k8 TF32 product: A [64][8] from registers (the
// ldmatrix fragment layout), B [64 n][8 k] in shared memory as core matrices
// (offset(n, k) = (n / 8) * sbo_data + (k / 4) * lbo_data + (n % 8) * 16 + (k % 4) * 4).
// Raw accumulators out: d[thread][32].
__global__ void unit_kernel(const float* a, const float* b, float* d, int lbo_data, int sbo_data, int lbo_desc,
                            int sbo_desc) {
  __shared__ __align__(1024) float sb[64 * 8 * 4];
  __shared__ __align__(128) float sa[64 * kLd];
  const int tid = threadIdx.x, lane = tid & 31, wq = tid >> 5;
  for (int e = tid; e < 64 * 8; e += 128) {
    const int n = e / 8, k = e % 8;
    sb[((n / 8) * sbo_data + (k / 4) * lbo_data + (n % 8) * 16 + (k % 4) * 4) / 4] = b[n * 8 + k];
    sa[n * kLd + k] = a[n * 8 + k];  // a [m][k], same index range
  }
  asm volatile("fence.proxy.async.shared::cta;\n" ::: "memory");
  __syncthreads();
  const int tile_row = lane >> 3;
  const int row = wq * 16 + (tile_row & 1) * 8 + (lane & 7), kof = (tile_row >> 1) * 4;
  uint32_t f[4];
  ldsm_x4(uint32_t(__cvta_generic_to_shared(sa + row * kLd + kof)), f);
  float acc[32];
  for (int e = 0; e < 32; ++e) acc[e] = 0.0f;
  wg_fence();
  wgmma_n64(acc, f, smem_desc(uint32_t(__cvta_generic_to_shared(sb)), lbo_desc, sbo_desc));
  wg_commit();
  wg_wait<0>();
  keep(acc);
  for (int e = 0; e < 32; ++e) d[tid * 32 + e] = acc[e];
}

int main() {
  std::vector<float> a(64 * 8), b(64 * 8), c(64 * 64);
  std::mt19937 rng(5);
  for (auto& v : a) v = float(int(rng() % 17) - 8);
  for (auto& v : b) v = float(int(rng() % 17) - 8) * 16.0f + float(rng() % 3);  // distinct-ish
  for (int m = 0; m < 64; ++m)
    for (int n = 0; n < 64; ++n) {
      double s = 0;
      for (int k = 0; k < 8; ++k) s += double(a[m * 8 + k]) * b[n * 8 + k];
      c[m * 64 + n] = float(s);
    }
  float *da, *db, *dd;
  CHECK(cudaMalloc(&da, 64 * 8 * 4));
  CHECK(cudaMalloc(&db, 64 * 8 * 4));
  CHECK(cudaMalloc(&dd, 128 * 32 * 4));
  CHECK(cudaMemcpy(da, a.data(), 64 * 8 * 4, cudaMemcpyHostToDevice));
  CHECK(cudaMemcpy(db, b.data(), 64 * 8 * 4, cudaMemcpyHostToDevice));
  const int variants[][4] = {{128, 512, 128, 512}, {128, 512, 512, 128}, {1024, 128, 1024, 128}, {1024, 128, 128, 1024}};
  for (auto& v : variants) {
    CHECK(cudaMemset(dd, 0, 128 * 32 * 4));
    unit_kernel<<<1, 128>>>(da, db, dd, v[0], v[1], v[2], v[3]);
    CHECK(cudaGetLastError());
    CHECK(cudaDeviceSynchronize());
    std::vector<float> d(128 * 32);
    CHECK(cudaMemcpy(d.data(), dd, d.size() * 4, cudaMemcpyDeviceToHost));
    int good = 0, found = 0;
    for (int t = 0; t < 128; ++t)
      for (int e = 0; e < 32; ++e) {
        const int lane = t & 31, w = t >> 5;
        const int m = w * 16 + (lane >> 2) + ((e >> 1) & 1) * 8, n = (e >> 2) * 8 + 2 * (lane & 3) + (e & 1);
        good += d[t * 32 + e] == c[m * 64 + n];
        for (int q = 0; q < 64 * 64; ++q)
          if (d[t * 32 + e] == c[q]) {
            ++found;
            break;
          }
      }
    printf("data lbo %4d sbo %4d, desc lbo %4d sbo %4d: %4d / 4096 at the expected place, %4d found anywhere\n", v[0],
           v[1], v[2], v[3], good, found);
    if (good < 4096)
      for (int e = 0; e < 4; ++e) {  // thread 0's first values: where they are in C
        printf("   thread 0 d[%d] = %g at C:", e, d[e]);
        for (int q = 0; q < 64 * 64; ++q)
          if (d[e] == c[q]) printf(" (%d,%d)", q / 64, q % 64);
        printf("\n");
      }
  }
  return 0;
}
