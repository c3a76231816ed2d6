// Host side of the wgmma implicit GEMM (implicit_wgmma.h): where it applies,
// the packed weight, and the launches (samples in groups that the grid's y
// axis holds).
#include "implicit_wgmma_host.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "gemm_convt/implicit.h"
#include "implicit_wgmma.h"

namespace gemm_convt {
namespace {

WgmmaConv describe_wgmma(const Problem& p, const ConvTranspose2dOptions& o, bool split, int64_t smem_optin) {
  WgmmaConv c{};
  c.in_h = int(p.in_h), c.in_w = int(p.in_w), c.out_h = int(p.out_h), c.out_w = int(p.out_w);
  c.kh = int(p.kernel_h), c.kw = int(p.kernel_w);
  c.pad_h = int(o.padding[0]), c.pad_w = int(o.padding[1]);
  c.dil_h = int(o.dilation[0]), c.dil_w = int(o.dilation[1]);
  c.cin_g = int(p.in_per_group), c.cout_g = int(p.out_per_group), c.groups = int(p.groups);
  c.blocks = (c.cin_g + kWgmmaBlockK - 1) / kWgmmaBlockK;
  c.co_tiles = (c.cout_g + kWgmmaTileN - 1) / kWgmmaTileN;
  c.parts = split ? 2 : 1;
  c.m_tiles = (c.out_w + kWgmmaTileM - 1) / kWgmmaTileM;
  // A step's window: the tile's positions plus the shifts between the width taps, whole 8-row core matrices.
  c.a_rows = (kWgmmaTileM + (c.kw - 1) * c.dil_w + 7) / 8 * 8;
  // Three buffers where they fit beside the barriers (1 KB), else two.
  // GEMM_CONVT_WGMMA_STAGES=2 or 3: the count for A/B probes.
  const char* forced = std::getenv("GEMM_CONVT_WGMMA_STAGES");
  c.stages = forced && std::strcmp(forced, "2") == 0 ? 2 : 3;
  if (int64_t(wgmma_smem_bytes(c)) + 1024 > smem_optin) c.stages = 2;
  const char* probe = std::getenv("GEMM_CONVT_WGMMA_PROBE");
  c.probe_no_fence = probe && std::strcmp(probe, "nofence") == 0;
  return c;
}

// A/B switch (GEMM_CONVT_WGMMA=0: the mma.sync kernel everywhere), read per call.
bool wgmma_switched_off() {
  const char* v = std::getenv("GEMM_CONVT_WGMMA");
  return v && std::strcmp(v, "0") == 0;
}

}  // namespace

bool implicit_wgmma_applies(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype) {
  if (dtype != at::kFloat || o.stride[0] != 1 || o.stride[1] != 1 || wgmma_switched_off()) return false;
  const auto* props = at::cuda::getCurrentDeviceProperties();
  if (props->major != 9 || props->minor != 0) return false;  // wgmma: sm_90a
  // 64-channel tiles: narrower groups would leave half the products on padding.
  if (p.out_per_group < 48) return false;
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  if (p.in_h > int_max || p.in_w > int_max || p.out_h * p.out_w > int_max || p.kernel_h * o.dilation[0] > int_max ||
      p.kernel_w * o.dilation[1] > int_max)
    return false;
  const WgmmaConv c = describe_wgmma(p, o, !o.allow_tf32, props->sharedMemPerBlockOptin);
  return c.a_rows <= kImplicitMaxSpan + 8 && int64_t(c.groups) * c.co_tiles <= 65535 &&
         int64_t(c.out_h) * c.m_tiles <= int_max &&
         int64_t(wgmma_smem_bytes(c)) + 1024 <= int64_t(props->sharedMemPerBlockOptin) &&
         wgmma_packed_weight_floats(c) * 4 <= o.workspace_bytes;
}

void implicit_wgmma_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                         const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo) {
  WgmmaConv c = describe_wgmma(p, o, !o.allow_tf32, at::cuda::getCurrentDeviceProperties()->sharedMemPerBlockOptin);
  c.x_sn = input.stride(0), c.x_sc = input.stride(1), c.x_sh = input.stride(2), c.x_sw = input.stride(3);
  c.w_si = weight.stride(0), c.w_so = weight.stride(1), c.w_sh = weight.stride(2), c.w_sw = weight.stride(3);
  c.o_sn = out.stride(0), c.o_sc = out.stride(1), c.o_sh = out.stride(2), c.o_sw = out.stride(3);
  if (p.batch == 0 || c.out_h == 0 || c.out_w == 0) return;
  const auto stream = at::cuda::getCurrentCUDAStream();
  at::Tensor packed_weight = at::empty({wgmma_packed_weight_floats(c)}, input.options().dtype(at::kFloat));
  C10_CUDA_CHECK(launch_wgmma_pack_weight(c, weight.data_ptr<float>(), packed_weight.data_ptr<float>(), stream));
  const int64_t samples = std::min<int64_t>(p.batch, 65535 / (int64_t(c.groups) * c.co_tiles));
  for (int64_t n0 = 0; n0 < p.batch; n0 += samples) {
    c.n0 = int(n0), c.samples = int(std::min(samples, p.batch - n0));
    C10_CUDA_CHECK(launch_wgmma_conv(c, input.data_ptr<float>(), packed_weight.data_ptr<float>(),
                                     bias.defined() ? bias.data_ptr<float>() : nullptr, out.data_ptr<float>(), redo,
                                     stream));
  }
}

}  // namespace gemm_convt
