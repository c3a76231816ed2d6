#include "operand.cuh"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include "ptx.cuh"

namespace gemm_convt {
namespace {

constexpr int kOperandThreads = 256;
constexpr int64_t kRowsPerBlock = 16;

// Block b makes destination rows [b*kRowsPerBlock, ...) of the rows
// (s, g, k, j, r), r fastest, its threads striding over each row's values.
// The row index is decomposed once per block and then stepped.
template <typename T>
__global__ void __launch_bounds__(kOperandThreads)
    make_operand_kernel(const OperandSource src, const Axis<int64_t> axis, SplitOrder order,
                        int64_t total_rows, T* __restrict__ dst) {
  const int64_t taps = axis.kernel, width = axis.out_size;
  const int64_t first = int64_t(blockIdx.x) * kRowsPerBlock;
  int64_t rest = first;
  int64_t r = rest % src.rows;
  rest /= src.rows;
  int64_t j = rest % taps;
  rest /= taps;
  int64_t k = rest % src.k;
  rest /= src.k;
  int64_t g = rest % src.groups, s = rest / src.groups;
  const int64_t part = src.k * taps * src.rows * width;  // one K block of one (s, g)
  const int parts = order == SplitOrder::none ? 1 : 3;
  const int64_t last = first + kRowsPerBlock < total_rows ? first + kRowsPerBlock : total_rows;
  for (int64_t row = first; row < last; ++row) {
    const T* in = static_cast<const T*>(src.base) + s * src.ss + g * src.sg + k * src.sk + r * src.sr;
    T* out = dst + (s * src.groups + g) * parts * part + ((k * taps + j) * src.rows + r) * width;
    for (int64_t o = threadIdx.x; o < width; o += kOperandThreads) {
      const int64_t x = tap_source(axis, o, j);
      const T v = x >= 0 ? in[x * src.sx] : T(0);
      if (order == SplitOrder::none) {
        out[o] = v;
      } else {  // T is float here
        const float hi = __uint_as_float(tf32_bits(float(v)));
        const float lo = isfinite(hi) ? float(v) - hi : 0.0f;  // inf stays in hi, not inf - inf
        out[o] = T(hi);
        out[part + o] = T(order == SplitOrder::input ? hi : lo);
        out[2 * part + o] = T(order == SplitOrder::input ? lo : hi);
      }
    }
    if (++r == src.rows) {  // step to the next row
      r = 0;
      if (++j == taps) {
        j = 0;
        if (++k == src.k) {
          k = 0;
          if (++g == src.groups) {
            g = 0;
            ++s;
          }
        }
      }
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
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  TORCH_CHECK(blocks < (int64_t(1) << 31), "gemm_convt: operand of ", rows, " rows is too large");
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "gemm_convt_operand", [&] {
    make_operand_kernel<scalar_t><<<static_cast<unsigned>(blocks), kOperandThreads, 0,
                                    at::cuda::getCurrentCUDAStream()>>>(
        src, axis, order, rows, static_cast<scalar_t*>(dst));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
