#include "operand.cuh"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

namespace gemm_convt {
namespace {

__device__ __forceinline__ float round_to_tf32(float x) {
  uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return __uint_as_float(bits);
}

// One block row (grid.x) per destination row (s, g, k, j, r); grid.y blocks
// stride over its axis.out_size values.
template <typename T>
__global__ void make_operand_kernel(const OperandSource src, const Axis<int64_t> axis,
                                    SplitOrder order, T* __restrict__ dst) {
  const int64_t taps = axis.kernel, width = axis.out_size;
  int64_t row = blockIdx.x;
  const int64_t r = row % src.rows;
  row /= src.rows;
  const int64_t j = row % taps;
  row /= taps;
  const int64_t k = row % src.k;
  row /= src.k;
  const int64_t g = row % src.groups, s = row / src.groups;
  const T* in = static_cast<const T*>(src.base) + s * src.ss + g * src.sg + k * src.sk + r * src.sr;
  const int64_t part = src.k * taps * src.rows * width;  // one K block of one (s, g)
  const int parts = order == SplitOrder::none ? 1 : 3;
  T* out = dst + (s * src.groups + g) * parts * part + ((k * taps + j) * src.rows + r) * width;
  for (int64_t o = int64_t(blockIdx.y) * blockDim.x + threadIdx.x; o < width;
       o += int64_t(gridDim.y) * blockDim.x) {
    const int64_t x = tap_source(axis, o, j);
    const T v = x >= 0 ? in[x * src.sx] : T(0);
    if (order == SplitOrder::none) {
      out[o] = v;
    } else {  // T is float here
      const float hi = round_to_tf32(float(v));
      const float lo = isfinite(hi) ? float(v) - hi : 0.0f;  // inf stays in hi, not inf - inf
      out[o] = T(hi);
      out[part + o] = T(order == SplitOrder::input ? hi : lo);
      out[2 * part + o] = T(order == SplitOrder::input ? lo : hi);
    }
  }
}

}  // namespace

void make_operand_cuda(at::ScalarType dtype, const OperandSource& src, const Axis<int64_t>& axis,
                       SplitOrder order, void* dst) {
  const int64_t rows = src.samples * src.groups * src.k * axis.kernel * src.rows;
  if (rows == 0 || axis.out_size == 0) return;
  TORCH_CHECK(order == SplitOrder::none || dtype == at::kFloat,
              "gemm_convt: expected float32 for a TF32 split, but got ", dtype);
  TORCH_CHECK(rows < (int64_t(1) << 31), "gemm_convt: operand of ", rows, " rows is too large");
  const int threads = 256;
  const dim3 grid(static_cast<unsigned>(rows),
                  static_cast<unsigned>(std::min<int64_t>((axis.out_size + threads - 1) / threads, 64)));
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "gemm_convt_operand", [&] {
    make_operand_kernel<scalar_t><<<grid, threads, 0, at::cuda::getCurrentCUDAStream()>>>(
        src, axis, order, static_cast<scalar_t*>(dst));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
