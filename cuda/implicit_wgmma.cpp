// Host side of the wgmma implicit GEMM (implicit_wgmma.h): where it applies,
// the packed operands, and the chunks (samples, or output-row bands of one
// sample) that keep the packed input within the workspace cap, on two side
// streams. A call is one or more phases sharing the packed input
// (implicit_wgmma_host.h's WgmmaCall).
#include "implicit_wgmma_host.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdlib>
#include <cstring>
#include <limits>

#include "allocator_blocks.h"
#include "implicit_wgmma.h"
#include "side_streams.h"

namespace gemm_convt {
namespace {

// A block's positions, and its window: those positions plus the shifts between the width
// taps, whole 8-row core matrices.
void set_tile(WgmmaConv& c, int tile_m) {
  c.tile_m = tile_m;
  c.a_rows = (tile_m + (c.taps_w - 1) * c.dil_w + 7) / 8 * 8;
}

WgmmaConv describe_wgmma(const WgmmaCall& call, bool split) {
  const Problem& p = call.p;
  const ConvTranspose2dOptions& o = call.o;
  WgmmaConv c{};
  c.taps_h = int(call.taps_h), c.taps_w = int(call.taps_w);
  c.phases = int(call.phases.size());
  c.in_h = int(p.in_h), c.in_w = int(p.in_w), c.out_w = int(p.out_w);
  c.kh = int(p.kernel_h), c.kw = int(p.kernel_w);
  c.pad_h = int(o.padding[0]), c.pad_w = int(o.padding[1]);
  c.dil_h = int(o.dilation[0]), c.dil_w = int(o.dilation[1]);
  c.cin_g = int(p.in_per_group), c.cout_g = int(p.out_per_group), c.groups = int(p.groups);
  c.blocks = (c.cin_g + kWgmmaBlockK - 1) / kWgmmaBlockK;
  c.co_tiles = (c.cout_g + kWgmmaTileN - 1) / kWgmmaTileN;
  c.parts = split ? 2 : 1;
  c.wp = c.out_w + (c.kw - 1) * c.dil_w;  // every column an output column's taps read
  // At least four consumer warpgroups an SM: blocks of 128 positions where two blocks'
  // shared memory fits an SM, else one of 256 if it fits. More run where more fit: ncu
  // (H200, session 41) had fcn_up's split blocks (67.6 KB, 72 registers) three an SM.
  const auto* props = at::cuda::getCurrentDeviceProperties();
  const auto block_smem = [](const WgmmaConv& t) { return int64_t(wgmma_smem_bytes(t)) + kWgmmaStaticSmem; };
  set_tile(c, kWgmmaTileMSmall);
  if (2 * (block_smem(c) + int64_t(props->reservedSharedMemPerBlock)) > int64_t(props->sharedMemPerMultiprocessor)) {
    WgmmaConv wide = c;
    set_tile(wide, kWgmmaTileMLarge);
    if (block_smem(wide) <= int64_t(props->sharedMemPerBlockOptin)) c = wide;
  }
  return c;
}

// Rows the taps reach above a band of output rows (stride 1).
int64_t reach(const WgmmaConv& c) { return int64_t(c.kh - 1) * c.dil_h; }
// A plane's tail: the last tile's window, and the columns a phase's start moves it past the
// plane's last row (its start_w, less the taps it does not take: implicit_wgmma.h's layout).
int64_t tail_columns(const WgmmaConv& c) { return c.a_rows + std::max(0, c.kw - c.taps_w - 1); }
// Packed floats per input row of one sample, and of the planes' tails.
int64_t row_floats(const WgmmaConv& c) { return int64_t(c.groups) * c.blocks * c.parts * 4 * c.wp * 4; }
int64_t tail_floats(const WgmmaConv& c) { return int64_t(c.groups) * c.blocks * c.parts * 4 * tail_columns(c) * 4; }
// Floats of the packed weights: every phase's.
int64_t weight_floats(const WgmmaConv& c) { return c.phases * wgmma_packed_weight_floats(c); }
// Packed floats of one sample's band of output rows.
int64_t band_floats(const WgmmaConv& c, int64_t out_rows) {
  return (out_rows + reach(c)) * row_floats(c) + tail_floats(c);
}

// The chunk's band: output rows r0 .. r0 + rows - 1 and the input rows they read.
void set_band(WgmmaConv& c, int64_t r0, int64_t rows) {
  c.row0 = int(r0), c.rows = int(rows);
  c.q0 = int(r0 + c.pad_h - reach(c)), c.q_rows = int(rows + reach(c));
  c.plane = int(c.q_rows * c.wp + tail_columns(c));  // the last tile's windows end inside the plane
  c.m_tiles = int((int64_t(c.rows) * c.wp + c.tile_m - 1) / c.tile_m);
}

constexpr double kWgmmaMinMacsPerByte = 48;

// The call's cap less its packed weights: what the packed input may take, in floats (the
// guarded rerun's weight is the caller's, already off the call's cap: session 40 took it
// off twice). Above 2 MiB it is whole 2 MiB: a buffer just under a multiple holds (and
// counts as) the multiple (allocator_blocks.h; kb65 TF32 read 64.3 MiB against its 64 MiB
// cap: a 63.7 MiB buffer in a 64 MiB block, plus the packed weight).
int64_t input_cap_floats(const WgmmaConv& c, const ConvTranspose2dOptions& o) {
  const int64_t bytes = std::max<int64_t>(0, o.workspace_bytes - 4 * weight_floats(c));
  return (bytes >= kAllocatorSegment ? bytes / kAllocatorSegment * kAllocatorSegment : bytes) / 4;
}

}  // namespace

bool wgmma_switched_off() {
  const char* v = std::getenv("GEMM_CONVT_WGMMA");
  return v && std::strcmp(v, "0") == 0;
}

WgmmaCall stride1_wgmma_call(const Problem& p, const ConvTranspose2dOptions& o, int64_t reserved_bytes) {
  WgmmaCall call{p, o, p.kernel_h, p.kernel_w, {}};
  call.o.workspace_bytes = std::max<int64_t>(0, o.workspace_bytes - reserved_bytes);
  call.phases.push_back(WgmmaPhaseShape{0, 0, p.out_h, p.out_w});
  return call;
}

bool wgmma_call_applies(const WgmmaCall& call, at::ScalarType dtype, WgmmaTiles* tiles) {
  const Problem& p = call.p;
  const ConvTranspose2dOptions& o = call.o;
  if (dtype != at::kFloat || o.stride[0] != 1 || o.stride[1] != 1 || wgmma_switched_off()) return false;
  if (call.phases.empty() || call.phases.size() > size_t(kWgmmaMaxPhases)) return false;
  const auto* props = at::cuda::getCurrentDeviceProperties();
  if (props->major != 9 || props->minor != 0 || !wgmma_kernels_built()) return false;  // wgmma: sm_90a
  // 64-channel tiles: narrower groups would leave half the products on padding.
  if (p.out_per_group < 48) return false;
  constexpr int64_t int_max = std::numeric_limits<int32_t>::max();
  if (p.in_h > int_max || p.in_w > int_max || p.out_h > int_max || p.out_w > int_max) return false;
  const WgmmaConv c = describe_wgmma(call, !o.allow_tf32);
  // 32-bit positions and plane columns (a whole sample's band, and the last tile's or pack
  // block's overhang past it).
  if ((p.out_h + reach(c)) * (p.out_w + int64_t(c.kw - 1) * c.dil_w) + tail_columns(c) + c.tile_m > int_max)
    return false;
  // By the rule (implicit GEMM not forced): the pack is a pass over the input, written as
  // its parts; it pays where each packed byte feeds enough multiply-adds (every phase's).
  // Measured on the H100 against the mma.sync kernel: session 27, TF32 kb57 at 144 per byte
  // 3% slower, split kb57 at 216 11% faster, kb65/kb69 at 336-720 8-33% faster; session 32,
  // after the wgmma kernel's tile rule and uniform descriptors, TF32 kb57 4.95 ms against
  // 7.01 (-29%). H200, session 33 (scripts/wgmma_rule_probe.py: an 8 x 64 x 256 x 512 input,
  // 48-128 output channels, 2x2 to 3x5 kernels): wgmma 8-47% faster at every point from 48
  // to 432 per byte (48 at 0.90x), so the rule starts at the lowest point measured.
  const double taps = double(c.taps_h * c.taps_w) * double(c.phases);
  const double macs_per_byte = double(p.out_per_group) * taps * (c.parts == 2 ? 3 : 1) / (4.0 * c.parts);
  if (o.implicit_gemm < 0 && macs_per_byte < kWgmmaMinMacsPerByte) return false;
  if ((c.taps_w - 1) * c.dil_w > kWgmmaMaxShift || int64_t(c.groups) * c.co_tiles * c.phases > 65535 ||
      int64_t(wgmma_smem_bytes(c)) + kWgmmaStaticSmem > int64_t(props->sharedMemPerBlockOptin))
    return false;
  // One output row's band must fit the cap beside the packed weights.
  if (band_floats(c, 1) > input_cap_floats(c, o)) return false;
  if (tiles) {
    tiles->positions = (p.out_h * c.wp + c.tile_m - 1) / c.tile_m * c.tile_m * c.phases;
    tiles->macs = double(p.batch) * double(tiles->positions) * double(c.groups) *
                  double(c.co_tiles * kWgmmaTileN) * double(c.blocks * kWgmmaBlockK) * double(c.taps_h * c.taps_w);
  }
  return true;
}

bool implicit_wgmma_applies(const Problem& p, const ConvTranspose2dOptions& o, at::ScalarType dtype,
                            int64_t reserved_bytes, WgmmaTiles* tiles) {
  return wgmma_call_applies(stride1_wgmma_call(p, o, reserved_bytes), dtype, tiles);
}

void wgmma_call_cuda(const WgmmaCall& call, const at::Tensor& input, const WgmmaViews& views, const at::Tensor& bias,
                     int* redo) {
  const Problem& p = call.p;
  const ConvTranspose2dOptions& o = call.o;
  WgmmaConv c = describe_wgmma(call, !o.allow_tf32);
  TORCH_INTERNAL_ASSERT(views.weights.size() == call.phases.size() && views.outs.size() == call.phases.size());
  const int64_t* ws = views.weight_strides;
  const int64_t* os = views.out_strides;
  c.x_sn = input.stride(0), c.x_sc = input.stride(1), c.x_sh = input.stride(2), c.x_sw = input.stride(3);
  c.w_si = ws[0], c.w_so = ws[1], c.w_sh = ws[2], c.w_sw = ws[3];
  c.o_sn = os[0], c.o_sc = os[1], c.o_sh = os[2], c.o_sw = os[3];
  const auto floats = input.options().dtype(at::kFloat);
  // The phases' packed weights side by side; each phase's taps and outputs as offsets from
  // the first's.
  const int64_t phase_weight_floats = wgmma_packed_weight_floats(c);
  for (int k = 0; k < c.phases; ++k) {
    const WgmmaPhaseShape& shape = call.phases[size_t(k)];
    WgmmaPhase& phase = c.phase[k];
    phase.start = int(shape.start_h * c.wp + shape.start_w);
    phase.out_h = int(shape.out_h), phase.out_w = int(shape.out_w);
    phase.out_offset = views.outs[size_t(k)] - views.outs[0];
    phase.weight_source = views.weights[size_t(k)] - views.weights[0];
    phase.weight_offset = k * phase_weight_floats;
  }

  // Chunks: as many whole samples as a buffer holds (and the grid's y axis), or
  // bands of one sample's output rows with the input rows they read. Two
  // buffers, each half the cap, where more than one chunk runs and a band fits
  // half: chunk i packs and runs on side stream i % 2, so one chunk's pack
  // overlaps the other's products (the pack is a pass over the input; the
  // products run on the tensor cores), and a buffer's reuse waits on its stream.
  const int64_t cap = input_cap_floats(c, o), per_row = row_floats(c), tail = tail_floats(c);
  const int64_t per_sample = band_floats(c, p.out_h);
  const int64_t planes = int64_t(c.groups) * c.co_tiles * c.phases;
  struct Plan {
    bool whole_samples;
    int64_t samples, band, chunks, floats;
  };
  const auto plan = [&](int64_t buffer_cap) {
    Plan q{per_sample <= buffer_cap, 1, p.out_h, 0, 0};
    if (q.whole_samples) {
      q.samples = std::min<int64_t>({p.batch, buffer_cap / std::max<int64_t>(per_sample, 1), 65535 / planes});
      q.chunks = (p.batch + q.samples - 1) / q.samples;
      q.floats = q.samples * per_sample;
    } else {
      q.band = std::max<int64_t>(1, (buffer_cap - tail) / per_row - reach(c));
      q.chunks = p.batch * ((p.out_h + q.band - 1) / q.band);
      q.floats = band_floats(c, q.band);
    }
    return q;
  };
  Plan q = plan(cap);
  int64_t buffers = 1;
  if (q.chunks > 1 && band_floats(c, 1) <= cap / 2) buffers = 2, q = plan(cap / 2);
  at::Tensor packed_input = at::empty({buffers * q.floats}, floats);
  at::Tensor packed_weight = at::empty({weight_floats(c)}, floats);

  const SideStreamLock side_lock;  // held until the caller's stream has joined
  const c10::cuda::CUDAStream origin = c10::cuda::getCurrentCUDAStream();
  const std::vector<c10::cuda::CUDAStream> streams = side_streams(buffers);
  {
    at::cuda::CUDAEvent start;  // after the caller's earlier work
    start.record(origin);
    for (const auto& side : streams) start.block(side);
  }
  // The first chunks' packs need only the input: they run beside the weights' pack, and
  // each side stream waits for the weights before its first products.
  C10_CUDA_CHECK(launch_wgmma_pack_weight(c, views.weights[0], packed_weight.data_ptr<float>(), origin.stream()));
  at::cuda::CUDAEvent weights_packed;
  weights_packed.record(origin);
  int64_t chunk = 0;
  for (int64_t n0 = 0; n0 < p.batch; n0 += q.samples) {
    for (int64_t r0 = 0; r0 < p.out_h; r0 += q.band, ++chunk) {
      c.n0 = int(n0), c.samples = int(std::min(q.samples, p.batch - n0));
      set_band(c, r0, std::min(q.band, p.out_h - r0));
      const int64_t need = wgmma_packed_input_floats(c);
      TORCH_INTERNAL_ASSERT(need <= q.floats, "implicit_wgmma: chunk larger than its buffer");
      const int64_t b = chunk % buffers;
      const cudaStream_t side = streams[b].stream();
      float* buffer = packed_input.data_ptr<float>() + b * q.floats;
      C10_CUDA_CHECK(launch_wgmma_pack_input(c, input.data_ptr<float>(), buffer, side));
      if (chunk < buffers) weights_packed.block(streams[b]);
      C10_CUDA_CHECK(launch_wgmma_conv(c, buffer, packed_weight.data_ptr<float>(),
                                       bias.defined() ? bias.data_ptr<float>() : nullptr, views.outs[0], redo,
                                       side));
    }
  }
  for (const auto& side : streams) {  // the caller's stream waits for both
    at::cuda::CUDAEvent done;
    done.record(side);
    done.block(origin);
  }
}

void implicit_wgmma_cuda(const Problem& p, const ConvTranspose2dOptions& o, const at::Tensor& input,
                         const at::Tensor& weight, const at::Tensor& bias, at::Tensor& out, int* redo,
                         int64_t reserved_bytes) {
  WgmmaViews views{{weight.data_ptr<float>()}, {out.data_ptr<float>()}, {}, {}};
  for (int k = 0; k < 4; ++k) views.weight_strides[k] = weight.stride(k), views.out_strides[k] = out.stride(k);
  wgmma_call_cuda(stride1_wgmma_call(p, o, reserved_bytes), input, views, bias, redo);
}

}  // namespace gemm_convt
