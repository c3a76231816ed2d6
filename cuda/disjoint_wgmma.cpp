// Host side of the disjoint-taps wgmma kernel (disjoint_wgmma.h): where it
// applies, the packed weight, the launch.
#include "disjoint_wgmma_host.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <limits>

#include "disjoint_wgmma.h"
#include "implicit_wgmma.h"
#include "implicit_wgmma_host.h"

namespace gemm_convt {
namespace {

DisjointWgmma describe(const Problem& p, const ConvTranspose2dOptions& o) {
  DisjointWgmma d{};
  d.pixels = int(p.in_pixels()), d.in_w = int(p.in_w);
  d.cin_g = int(p.in_per_group), d.cout_g = int(p.out_per_group), d.groups = int(p.groups);
  d.kw = int(p.kernel_w), d.taps = int(p.kernel_taps());
  d.s_h = int(o.stride[0]), d.s_w = int(o.stride[1]), d.pad_h = int(o.padding[0]), d.pad_w = int(o.padding[1]);
  d.out_h = int(p.out_h), d.out_w = int(p.out_w);
  d.blocks = (d.cin_g + kDwBlockK - 1) / kDwBlockK;
  d.n_tiles = int((int64_t(d.cout_g) * d.taps + kDwTileN - 1) / kDwTileN);
  d.m_tiles = (d.pixels + kDwTileM - 1) / kDwTileM;
  d.samples = int(p.batch);
  d.by_taps = Divider<int32_t>(d.taps), d.by_kw = Divider<int32_t>(d.kw), d.by_in_w = Divider<int32_t>(d.in_w);
  return d;
}

}  // namespace

bool disjoint_wgmma_applies(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input) {
  if (input.scalar_type() != at::kFloat || o.allow_tf32 || wgmma_switched_off()) return false;
  const auto* props = at::cuda::getCurrentDeviceProperties();
  if (props->major != 9 || props->minor != 0 || !wgmma_kernels_built()) return false;  // wgmma: sm_90a
  // Cells tiled exactly by the taps: every product column lands, none on a gap.
  if (p.kernel_h != o.stride[0] || p.kernel_w != o.stride[1] || o.dilation[0] != 1 || o.dilation[1] != 1)
    return false;
  const DisjointWgmma d = describe(p, o);
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  // 32-bit block indices (one block a tile) and output offsets within a plane.
  if (int64_t(d.samples) * d.groups * d.m_tiles * d.n_tiles > int_max || p.out_h * o.stride[0] > int_max / 2 ||
      p.out_w * o.stride[1] > int_max / 2)
    return false;
  return disjoint_wgmma_weight_floats(d) * 4 <= o.workspace_bytes &&
         int64_t(disjoint_wgmma_smem_bytes(d)) + 1024 <= int64_t(props->sharedMemPerBlockOptin);
}

void disjoint_wgmma_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                         const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out) {
  DisjointWgmma d = describe(p, o);
  d.x_sn = input.stride(0), d.x_sc = input.stride(1);
  d.w_si = weight.stride(0), d.w_so = weight.stride(1), d.w_sh = weight.stride(2), d.w_sw = weight.stride(3);
  d.o_sn = out.stride(0), d.o_sc = out.stride(1), d.o_sh = out.stride(2), d.o_sw = out.stride(3);
  // Two width taps per float2 store: even taps per row and even offsets, so
  // each pair lands on 8 bytes.
  d.pairs = d.kw % 2 == 0 && d.pad_w % 2 == 0 && d.o_sw == 1 && d.o_sh % 2 == 0 && d.o_sc % 2 == 0 &&
            d.o_sn % 2 == 0 && reinterpret_cast<uintptr_t>(out.data_ptr()) % 8 == 0;
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream().stream();
  at::Tensor packed_weight = at::empty({disjoint_wgmma_weight_floats(d)}, input.options());
  C10_CUDA_CHECK(launch_disjoint_wgmma_pack_weight(d, weight.data_ptr<float>(), packed_weight.data_ptr<float>(),
                                                   stream));
  if (d.pixels > 0)
    C10_CUDA_CHECK(launch_disjoint_wgmma(d, input.data_ptr<float>(), packed_weight.data_ptr<float>(),
                                         bias.defined() ? bias.data_ptr<float>() : nullptr, out.data_ptr<float>(),
                                         stream));
}

}  // namespace gemm_convt
