// The direct gather on the CPU: every output position walks the taps that
// land on it (include/gemm_convt/gather.h, the walk the CUDA kernel runs) and
// contracts them with the weight in the accumulation type. Used on the CPU
// only when asked (set_direct_gather(True)): torch's BLAS makes GEMM + col2im
// the faster CPU path; it is here so that CI runs the gather's index math,
// in its row form too where the taps are disjoint.

#include "../conv_transpose2d.h"
#include "gemm_convt/divider.h"
#include "gemm_convt/gather.h"
#include "output_plane.h"

namespace gemm_convt {
namespace {

// One plane, kCols output columns one stride apart per position as the CUDA
// kernel's wide variant walks them.
template <int kCols, typename scalar_t>
void gather_plane(const Problem& p, const ConvTranspose2dOptions& o,
                  const OutputPlane<scalar_t>& v) {
  using acc_t = typename OutputPlane<scalar_t>::acc_t;
  const Axis<int64_t> h = height_axis<int64_t>(p, o), wa = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_stride_h(o.stride[0]), by_stride_w(o.stride[1]);
  const int64_t positions = gather_row_positions(p.out_w, o.stride[1], kCols);
  for (int64_t oh = 0; oh < p.out_h; ++oh) {
    for (int64_t k = 0; k < positions; ++k) {
      const int64_t ow = gather_first_column<kCols>(k, wa.stride, by_stride_w);
      if (ow >= p.out_w) continue;
      acc_t acc[kCols];
      for (int u = 0; u < kCols; ++u) acc[u] = v.bias;
      for_each_gather_hit<kCols>(
          h, wa, oh, ow, by_stride_h, by_stride_w,
          [&](int64_t i, int64_t q, int64_t j, int64_t pcol, const bool(&in)[kCols]) {
            const scalar_t* xs = v.x + q * v.x_sh + pcol * v.x_sw;
            const scalar_t* ws = v.w + i * p.kernel_w + j;
            for (int64_t ci = 0; ci < p.in_per_group; ++ci) {
              const acc_t wv = static_cast<acc_t>(ws[ci * v.w_ci]);
              for (int u = 0; u < kCols; ++u)
                if (in[u]) acc[u] += static_cast<acc_t>(xs[ci * v.x_sc + u * v.x_sw]) * wv;
            }
          });
      for (int u = 0; u < kCols && ow + u * wa.stride < p.out_w; ++u)
        v.out[oh * v.o_sh + (ow + u * wa.stride) * v.o_sw] = static_cast<scalar_t>(acc[u]);
    }
  }
}

// The row form (gather.h, gather_takes_rows): each row's tap and each
// column's tap found once, as the CUDA row kernel finds them.
template <typename scalar_t>
void gather_rows_plane(const Problem& p, const ConvTranspose2dOptions& o,
                       const OutputPlane<scalar_t>& v) {
  using acc_t = typename OutputPlane<scalar_t>::acc_t;
  const Axis<int64_t> h = height_axis<int64_t>(p, o), wa = width_axis<int64_t>(p, o);
  const Divider<int64_t> by_stride_h(o.stride[0]), by_stride_w(o.stride[1]);
  for (int64_t oh = 0; oh < p.out_h; ++oh) {
    const AxisHit<int64_t> row = disjoint_hit(h, oh, by_stride_h);
    for (int64_t ow = 0; ow < p.out_w; ++ow) {
      acc_t acc = v.bias;
      const AxisHit<int64_t> col = disjoint_hit(wa, ow, by_stride_w);
      if (row.k < h.kernel && col.k < wa.kernel) {
        const scalar_t* xs = v.x + row.q * v.x_sh + col.q * v.x_sw;
        const scalar_t* ws = v.w + row.k * p.kernel_w + col.k;
        for (int64_t ci = 0; ci < p.in_per_group; ++ci)
          acc += static_cast<acc_t>(xs[ci * v.x_sc]) * static_cast<acc_t>(ws[ci * v.w_ci]);
      }
      v.out[oh * v.o_sh + ow * v.o_sw] = static_cast<scalar_t>(acc);
    }
  }
}

}  // namespace

void direct_gather_cpu(const Problem& p, const ConvTranspose2dOptions& o,
                       const at::Tensor& input, const at::Tensor& weight,
                       const at::Tensor& bias, at::Tensor& out) {
  // Two columns per position where the CUDA kernel takes two, so both of its walks run here.
  const bool two = gather_is_wide(p.in_per_group, p.kernel_taps(), o.stride[0], o.stride[1]);
  const bool rows = gather_takes_rows(p.kernel_h, p.kernel_w, o.stride[0], o.stride[1],
                                      o.dilation[0], o.dilation[1]);
  for_each_output_plane(p, input, weight, bias, out, [&](const auto& v) {
    if (rows)
      gather_rows_plane(p, o, v);
    else if (two)
      gather_plane<2>(p, o, v);
    else
      gather_plane<1>(p, o, v);
  });
}

}  // namespace gemm_convt
