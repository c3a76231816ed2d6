#include "backward_gemm.h"

#include <algorithm>
#include <cstdlib>
#include <cstring>

#include "thin_gemm.cuh"

namespace gemm_convt {

namespace {

// grad_weight's partial sums: at most 8 MiB, 64 weights' worth, or an
// eighth of the workspace cap (they count against it).
constexpr int64_t kThinPartsCap = int64_t(8) << 20;
constexpr int64_t kThinMaxSlices = 64;
// Measured (H100, training step of the layer, IEEE products): kb75 (N = 8)
// 9.5 -> 5.7 ms, kb75 with 2 groups (N = 16) 9.9 -> 6.2, kb81 with 4 groups
// (N = 8) 2.7 -> 1.8. With N = 32 (kb71, kb78) and 64 (kb69) it ran 1.3-1.8x
// slower than cuBLAS's SIMT kernels, and under the TF32 policy it was level
// with or slower than cuBLAS's TF32 kernels: IEEE float32 only.
constexpr int64_t kThinMaxChannels = 16;

const float* float_ptr(const void* base, int64_t offset) {
  return static_cast<const float*>(base) + offset;
}

}  // namespace

ThinPlan thin_plan(const Problem& p, at::ScalarType dtype, bool allow_tf32, bool grad_input,
                   bool grad_weight) {
  ThinPlan plan;
  const char* env = std::getenv("GEMM_CONVT_THIN_GEMM");
  const int mode = env == nullptr ? -1 : std::strcmp(env, "0") == 0 ? 0 : 1;
  const bool thin = dtype == at::kFloat && mode != 0 &&
                    (mode == 1 ? p.in_per_group <= kThinMaxN
                               : !allow_tf32 && p.in_per_group <= kThinMaxChannels);
  // The kernel's grid.z holds a launch's (sample, group) pairs, at most
  // 65535: beyond that (e.g. depthwise layers with very many groups) cuBLAS.
  constexpr int64_t kMaxGridZ = 65535;
  plan.grad_input = grad_input && thin && p.batch * p.groups <= kMaxGridZ;
  plan.grad_weight = grad_weight && thin && p.groups <= kMaxGridZ;
  return plan;
}

int64_t thin_parts_bytes(const ThinPlan& plan, const at::Tensor& weight, int64_t workspace_bytes) {
  if (!plan.grad_weight) return 0;
  const int64_t weight_bytes = weight.numel() * int64_t(sizeof(float));
  const int64_t bytes = std::min({kThinPartsCap, kThinMaxSlices * weight_bytes, workspace_bytes / 8});
  return bytes >= 2 * weight_bytes ? bytes : 0;  // fewer than two slices: none
}

void plan_thin_slices(const Problem& p, const ChunkShape& shape, const at::Tensor& weight,
                      int64_t parts_bytes, ThinPlan& plan) {
  if (!plan.grad_weight || parts_bytes == 0) return;
  const int64_t weight_bytes = weight.numel() * int64_t(sizeof(float));
  plan.slices = thin_gemm_slices(shape.channels * p.kernel_taps(), p.in_per_group,
                                 shape.samples * shape.max_rows * p.in_w, shape.groups,
                                 parts_bytes / weight_bytes);
  if (plan.slices > 1) plan.parts = at::empty({plan.slices * weight.numel()}, weight.options());
}

void finish_grad_weight(const ThinPlan& plan, at::Tensor& grad_weight) {
  if (plan.grad_weight && plan.slices > 1)
    sum_slices_cuda(plan.parts.data_ptr<float>(), plan.slices, grad_weight.numel(),
                    grad_weight.data_ptr<float>());
}

void grad_input_gemm_cuda(const Problem& p, const Chunk& c, const at::Tensor& weight,
                          const at::Tensor& columns, at::Tensor& dst, int64_t dst_n0,
                          bool allow_tf32, const ThinPlan& thin) {
  const at::ScalarType dtype = weight.scalar_type();
  const int64_t esize = weight.element_size(), dst_esize = dst.element_size();
  const int64_t taps = p.kernel_taps();
  const int64_t rows = c.channels * taps;               // contraction: this chunk's rows
  const int64_t band = c.rows * p.in_w;                 // pixels of the band
  const int64_t length = c.samples * band;              // values per column row
  const int64_t w_row = p.out_per_group * taps;         // weight row per input channel
  const int64_t w_group = p.in_per_group * w_row;
  const int64_t c_group = rows * length;                // columns per group
  // dst is NCHW- or channels_last-contiguous; where both hold (size-1 dims)
  // the NCHW form is used, with a leading dimension cuBLAS accepts.
  const bool channels_last = !dst.is_contiguous();
  const int64_t ld_nchw = p.in_per_group == 1 ? std::max(dst.stride(1), band) : dst.stride(1);
  const double beta = c.c0 > 0 ? 1.0 : 0.0;
  const char* w = static_cast<const char*>(weight.data_ptr());
  const char* cols = static_cast<const char*>(columns.data_ptr());
  char* out = static_cast<char*>(dst.data_ptr());
  if (thin.grad_input) {
    // One launch for all the chunk's samples and groups (a launch per group
    // gave too few blocks): dst[n][g] (band x Cin_g) = colsᵀ · wᵀ.
    const ThinMatrix a{float_ptr(cols, 0), 1, length, band, c_group};
    const ThinMatrix b{float_ptr(w, c.g0 * w_group + c.c0 * taps), 1, w_row, 0, w_group};
    const ThinOutput o{reinterpret_cast<float*>(out) + (c.n0 - dst_n0) * dst.stride(0) +
                           c.g0 * p.in_per_group * dst.stride(1) + c.row_begin * dst.stride(2),
                       channels_last ? dst.stride(3) : 1, channels_last ? 1 : ld_nchw,
                       dst.stride(0), p.in_per_group * dst.stride(1)};
    thin_gemm_cuda(band, p.in_per_group, rows, a, b, o, float(beta), c.samples, c.groups, 1, 0);
    return;
  }
  for (int64_t g = 0; g < c.groups; ++g) {
    const int64_t grp = c.g0 + g;
    const char* w_ptr = w + (grp * w_group + c.c0 * taps) * esize;
    const char* c_ptr = cols + g * c_group * esize;
    char* o_ptr = out + ((c.n0 - dst_n0) * dst.stride(0) + grp * p.in_per_group * dst.stride(1) +
                         c.row_begin * dst.stride(2)) * dst_esize;
    if (!channels_last) {
      // dst[n][g] (band x Cin_g, column-major, ld = channel stride) = colsᵀ · wᵀ
      const MatrixRef a{c_ptr, length, false, band};
      const MatrixRef b{w_ptr, w_row, false, 0};
      gemm_strided_batched(dtype, dst.scalar_type(), band, p.in_per_group, rows, a, b, o_ptr,
                           ld_nchw, dst.stride(0), beta, c.samples, allow_tf32);
    } else {
      // dst[n][g] (Cin_g x band, column-major, ld = pixel stride) = w · cols
      const MatrixRef a{w_ptr, w_row, true, 0};
      const MatrixRef b{c_ptr, length, true, band};
      gemm_strided_batched(dtype, dst.scalar_type(), p.in_per_group, band, rows, a, b, o_ptr,
                           dst.stride(3), dst.stride(0), beta, c.samples, allow_tf32);
    }
  }
}

void grad_weight_gemm_cuda(const Problem& p, const Chunk& c, const MatrixRef& x,
                           const at::Tensor& columns, at::Tensor& dst, bool allow_tf32,
                           const ThinPlan& thin) {
  const at::ScalarType dtype = columns.scalar_type();
  const int64_t esize = columns.element_size(), dst_esize = dst.element_size();
  const int64_t taps = p.kernel_taps();
  const int64_t rows = c.channels * taps;
  const int64_t length = c.samples * c.rows * p.in_w;
  const int64_t w_row = p.out_per_group * taps;
  const int64_t w_group = p.in_per_group * w_row;
  const int64_t offset = c.g0 * w_group + c.c0 * taps;  // the chunk's slice of dst
  char* out = static_cast<char*>(dst.data_ptr()) + offset * dst_esize;
  // dst[g] slice (rows x Cin_g, column-major, ld = w_row) = op(cols) · op(x),
  // op(cols) = rows x length, op(x) = length x Cin_g; batched over groups.
  const MatrixRef a{columns.data_ptr(), length, true, rows * length};
  MatrixRef b = x;
  b.ptr = static_cast<const char*>(x.ptr) + c.g0 * x.batch_stride * esize;
  const bool first = c.n0 == 0 && c.row_begin == 0;
  if (thin.grad_weight) {
    // A (row, pixel), B (pixel, channel); slices write their partial sums
    // into thin.parts at dst's offsets.
    const ThinMatrix ta{float_ptr(columns.data_ptr(), 0), length, 1, rows * length};
    const ThinMatrix tb{static_cast<const float*>(b.ptr), b.transposed ? b.ld : 1,
                        b.transposed ? 1 : b.ld, b.batch_stride};
    float* target = thin.slices > 1 ? thin.parts.data_ptr<float>() + offset
                                    : reinterpret_cast<float*>(out);
    thin_gemm_cuda(rows, p.in_per_group, length, ta, tb, ThinOutput{target, 1, w_row, w_group},
                   first ? 0.f : 1.f, c.groups, 1, thin.slices, dst.numel());
    return;
  }
  gemm_strided_batched(dtype, dst.scalar_type(), rows, p.in_per_group, length, a, b, out, w_row,
                       w_group, first ? 0.0 : 1.0, c.groups, allow_tf32);
}

}  // namespace gemm_convt
