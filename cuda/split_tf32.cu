#include "split_tf32.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

namespace gemm_convt {
namespace {

__device__ __forceinline__ float round_to_tf32(float x) {
  uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return __uint_as_float(bits);
}

// One block row (grid.x) per (s, g, k); grid.y blocks stride over p.
__global__ void split_tf32_kernel(const SplitSource src, SplitOrder order, float* __restrict__ dst) {
  const int64_t row = blockIdx.x;
  const int64_t k = row % src.k, g = (row / src.k) % src.groups, s = row / (src.k * src.groups);
  const float* in = src.base + s * src.ss + g * src.sg + k * src.sk;
  const int64_t per_g = src.k * src.p;
  float* out = dst + (s * src.groups + g) * 3 * per_g + k * src.p;
  for (int64_t p = int64_t(blockIdx.y) * blockDim.x + threadIdx.x; p < src.p;
       p += int64_t(gridDim.y) * blockDim.x) {
    const float x = in[p * src.sp];
    const float hi = round_to_tf32(x);
    const float lo = isfinite(hi) ? x - hi : 0.0f;  // inf stays in hi, not inf - inf
    out[p] = hi;
    out[per_g + p] = order == SplitOrder::input ? hi : lo;
    out[2 * per_g + p] = order == SplitOrder::input ? lo : hi;
  }
}

}  // namespace

void split_tf32_cuda(const SplitSource& src, SplitOrder order, float* dst) {
  const int64_t total = src.samples * src.groups * src.k * src.p;
  if (total == 0) return;
  const int threads = 256;
  const int64_t rows = src.samples * src.groups * src.k;
  TORCH_CHECK(rows < (int64_t(1) << 31), "gemm_convt: too many rows to split: ", rows);
  const dim3 grid(static_cast<unsigned>(rows),
                  static_cast<unsigned>(std::min<int64_t>((src.p + threads - 1) / threads, 64)));
  split_tf32_kernel<<<grid, threads, 0, at::cuda::getCurrentCUDAStream()>>>(src, order, dst);
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
