#pragma once

// The CPU direct paths (direct_gather_cpu.cpp, implicit_gemm_cpu.cpp) work one
// output plane at a time: sample n, group g, output channel c of the group.
// OutputPlane says where that plane's input, weights, output and bias are;
// for_each_output_plane runs a function over all planes in parallel.

#include <ATen/AccumulateType.h>
#include <ATen/Dispatch.h>
#include <ATen/Parallel.h>

#include "../problem.h"

namespace gemm_convt {

template <typename scalar_t>
struct OutputPlane {
  using acc_t = at::acc_type<scalar_t, /*is_cuda=*/false>;
  const scalar_t* x;  // the sample's input, at the group's first channel
  const scalar_t* w;  // weight[g * in_per_group][c][0][0]; taps contiguous
  scalar_t* out;      // out[n][g * out_per_group + c]
  acc_t bias;
  int64_t x_sc, x_sh, x_sw;  // input strides
  int64_t w_ci;              // weight stride per input channel
  int64_t o_sh, o_sw;        // output strides
};

// weight contiguous, bias contiguous or undefined; f(plane) for every plane.
template <typename F>
void for_each_output_plane(const Problem& p, const at::Tensor& input, const at::Tensor& weight,
                           const at::Tensor& bias, at::Tensor& out, F&& f) {
  const int64_t planes = p.batch * p.groups * p.out_per_group;
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, input.scalar_type(), "gemm_convt_cpu_planes", [&] {
    using acc_t = typename OutputPlane<scalar_t>::acc_t;
    const scalar_t* b = bias.defined() ? bias.data_ptr<scalar_t>() : nullptr;
    const int64_t taps = p.kernel_taps(), w_ci = p.out_per_group * taps;
    at::parallel_for(0, planes, 1, [&](int64_t begin, int64_t end) {
      for (int64_t plane = begin; plane < end; ++plane) {
        const int64_t c = plane % p.out_per_group, rest = plane / p.out_per_group;
        const int64_t g = rest % p.groups, n = rest / p.groups;
        const int64_t co = g * p.out_per_group + c;
        OutputPlane<scalar_t> v;
        v.x_sc = input.stride(1), v.x_sh = input.stride(2), v.x_sw = input.stride(3);
        v.x = input.data_ptr<scalar_t>() + n * input.stride(0) + g * p.in_per_group * v.x_sc;
        v.w_ci = w_ci;
        v.w = weight.data_ptr<scalar_t>() + g * p.in_per_group * w_ci + c * taps;
        v.out = out.data_ptr<scalar_t>() + n * out.stride(0) + co * out.stride(1);
        v.o_sh = out.stride(2), v.o_sw = out.stride(3);
        v.bias = b ? static_cast<acc_t>(b[co]) : acc_t(0);
        f(v);
      }
    });
  });
}

}  // namespace gemm_convt
