#include "backward_gemm.h"

#include <algorithm>

namespace gemm_convt {

void grad_input_gemm_cuda(const Problem& p, const Chunk& c, const at::Tensor& weight,
                          const at::Tensor& columns, at::Tensor& dst, int64_t dst_n0,
                          bool allow_tf32) {
  const at::ScalarType dtype = weight.scalar_type();
  const int64_t esize = weight.element_size(), dst_esize = dst.element_size();
  const int64_t taps = p.kernel_taps(), pixels = p.in_pixels();
  const int64_t rows = c.channels * taps;               // contraction: this chunk's rows
  const int64_t w_row = p.out_per_group * taps;         // weight row per input channel
  const int64_t w_group = p.in_per_group * w_row;
  const int64_t c_group = rows * pixels;                // columns per (sample, group)
  // dst is NCHW- or channels_last-contiguous; where both hold (size-1 dims)
  // the NCHW form is used, with a leading dimension cuBLAS accepts.
  const bool channels_last = !dst.is_contiguous();
  const int64_t ld_nchw = p.in_per_group == 1 ? std::max(dst.stride(1), pixels) : dst.stride(1);
  const double beta = c.c0 > 0 ? 1.0 : 0.0;
  const char* w = static_cast<const char*>(weight.data_ptr());
  const char* cols = static_cast<const char*>(columns.data_ptr());
  char* out = static_cast<char*>(dst.data_ptr());
  for (int64_t g = 0; g < c.groups; ++g) {
    const int64_t grp = c.g0 + g;
    const char* w_ptr = w + (grp * w_group + c.c0 * taps) * esize;
    const char* c_ptr = cols + g * c_group * esize;
    char* o_ptr = out + ((c.n0 - dst_n0) * dst.stride(0) +
                         grp * p.in_per_group * dst.stride(1)) * dst_esize;
    const int64_t col_sample_stride = c.groups * c_group;
    if (!channels_last) {
      // dst[n][g] (pixels x Cin_g, column-major, ld = channel stride) = colsᵀ · wᵀ
      const MatrixRef a{c_ptr, pixels, false, col_sample_stride};
      const MatrixRef b{w_ptr, w_row, false, 0};
      gemm_strided_batched(dtype, dst.scalar_type(), pixels, p.in_per_group, rows, a, b, o_ptr,
                           ld_nchw, dst.stride(0), beta, c.samples, allow_tf32);
    } else {
      // dst[n][g] (Cin_g x pixels, column-major, ld = pixel stride) = w · cols
      const MatrixRef a{w_ptr, w_row, true, 0};
      const MatrixRef b{c_ptr, pixels, true, col_sample_stride};
      gemm_strided_batched(dtype, dst.scalar_type(), p.in_per_group, pixels, rows, a, b, o_ptr,
                           dst.stride(3), dst.stride(0), beta, c.samples, allow_tf32);
    }
  }
}

void grad_weight_gemm_cuda(const Problem& p, const Chunk& c, const InputOperand& x,
                           const at::Tensor& columns, at::Tensor& dst, bool allow_tf32) {
  const at::ScalarType dtype = columns.scalar_type();
  const int64_t esize = columns.element_size(), dst_esize = dst.element_size();
  const int64_t taps = p.kernel_taps(), pixels = p.in_pixels();
  const int64_t rows = c.channels * taps;
  const int64_t w_row = p.out_per_group * taps;
  const int64_t w_group = p.in_per_group * w_row;
  const int64_t c_group = rows * pixels;
  const char* cols = static_cast<const char*>(columns.data_ptr());
  char* out = static_cast<char*>(dst.data_ptr()) + (c.g0 * w_group + c.c0 * taps) * dst_esize;
  for (int64_t n = 0; n < c.samples; ++n) {
    const int64_t sample = c.n0 + n;
    // dst[g] slice (rows x Cin_g, column-major, ld = w_row) = colsᵀᵀ · x, i.e.
    // op(cols) = rows x pixels, op(x) = pixels x Cin_g.
    const MatrixRef a{cols + n * c.groups * c_group * esize, pixels, true, c_group};
    const char* x_ptr = x.base + (sample * x.sample_stride +
                                  c.g0 * p.in_per_group * x.channel_stride) * esize;
    const MatrixRef b{x_ptr, x.ld, x.channel_major, p.in_per_group * x.channel_stride};
    gemm_strided_batched(dtype, dst.scalar_type(), rows, p.in_per_group, pixels, a, b, out, w_row,
                         w_group, sample == 0 ? 0.0 : 1.0, c.groups, allow_tf32);
  }
}

}  // namespace gemm_convt
