#include "operand.cuh"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include "ptx.cuh"

namespace gemm_convt {
namespace {

constexpr int kOperandThreads = 256;
constexpr int64_t kRowsPerBlock = 16;

// Block b makes destination rows [b*kRowsPerBlock, ...) of the rows
// (s, g, k, r), r fastest, its threads striding over each row's values.
// The row index is decomposed once per block and then stepped.
__global__ void __launch_bounds__(kOperandThreads)
    make_split_operand_kernel(const OperandSource src, int64_t width, SplitOrder order,
                              int64_t total_rows, float* __restrict__ dst) {
  const int64_t first = int64_t(blockIdx.x) * kRowsPerBlock;
  int64_t rest = first;
  int64_t r = rest % src.rows;
  rest /= src.rows;
  int64_t k = rest % src.k;
  rest /= src.k;
  int64_t g = rest % src.groups, s = rest / src.groups;
  const int64_t part = src.k * src.rows * width;  // one K block of one (s, g)
  const int64_t last = first + kRowsPerBlock < total_rows ? first + kRowsPerBlock : total_rows;
  for (int64_t row = first; row < last; ++row) {
    const float* in =
        static_cast<const float*>(src.base) + s * src.ss + g * src.sg + k * src.sk + r * src.sr;
    float* out = dst + (s * src.groups + g) * 3 * part + (k * src.rows + r) * width;
    for (int64_t o = threadIdx.x; o < width; o += kOperandThreads) {
      const Tf32Parts x = tf32_parts(in[o * src.sx]);
      out[o] = order == SplitOrder::input ? x.lo : x.cross;
      out[part + o] = order == SplitOrder::input ? x.cross : x.lo;
      out[2 * part + o] = x.hi;
    }
    if (++r == src.rows) {  // step to the next row
      r = 0;
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

}  // namespace

void make_split_operand_cuda(const OperandSource& src, int64_t width, SplitOrder order, void* dst) {
  const int64_t rows = src.samples * src.groups * src.k * src.rows;
  if (rows == 0 || width == 0) return;
  const int64_t blocks = (rows + kRowsPerBlock - 1) / kRowsPerBlock;
  TORCH_CHECK(blocks < (int64_t(1) << 31), "gemm_convt: operand of ", rows, " rows is too large");
  make_split_operand_kernel<<<static_cast<unsigned>(blocks), kOperandThreads, 0,
                              at::cuda::getCurrentCUDAStream()>>>(src, width, order, rows,
                                                                   static_cast<float*>(dst));
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

}  // namespace gemm_convt
