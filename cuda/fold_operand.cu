#include "fold_operand.cuh"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include "gemm_convt/divider.h"

namespace gemm_convt {
namespace {

// A block takes 32 consecutive positions (n, row, m) of one group and phase x
// one tile of 32 channels, every slot in turn, through shared
// memory: read along the input row (consecutive m), written along K
// (consecutive ci), both coalesced. Each thread finds its position's source
// once per block, in 32-bit arithmetic (a chunk's positions fit: its columns
// are capped by the workspace); 64-bit only for addresses. One channel tile
// per block: four ran fcn_up's unfold at 677 us, one at 355-483 (four left
// too few blocks per chunk to hide the loads' latency: NOTES.md, session 13).
constexpr int kTile = 32, kTileRowsPerPass = 8;

struct UnfoldTiles {
  int32_t p_tiles, c_tiles, phases, groups, positions, length, rows;
  int64_t count() const { return int64_t(p_tiles) * c_tiles * phases * groups; }
};

template <typename T>
__global__ void __launch_bounds__(kTile * kTileRowsPerPass)
    unfold_phases_kernel(const OperandSource src, const Axis<int64_t> w,
                         const Divider<int64_t> by_stride, const WidthFold<int64_t> fold,
                         const UnfoldTiles tiles, T* __restrict__ dst) {
  __shared__ T tile[kTile][kTile + 1];
  int32_t b = int32_t(blockIdx.x);  // -> (position tile, channel tile, phase, group)
  const int32_t pt = b % tiles.p_tiles;
  b /= tiles.p_tiles;
  const int32_t ct = b % tiles.c_tiles;
  b /= tiles.c_tiles;
  const int32_t r = b % tiles.phases, g = b / tiles.phases;
  const PhaseTaps<int64_t> phase = phase_taps(w, int64_t(r), by_stride);

  const int32_t p = pt * kTile + int32_t(threadIdx.x);
  const bool valid = p < tiles.positions;
  const int32_t n_row = p / tiles.length, m = p - n_row * tiles.length;
  const int32_t n = n_row / tiles.rows, row = n_row - n * tiles.rows;
  const T* in = static_cast<const T*>(src.base) + n * src.ss + g * src.sg + row * src.sr;
  const int64_t k_len = fold.taps * src.k;
  T* out = dst + (int64_t(g * tiles.phases + r) * tiles.positions + pt * kTile) * k_len;
  const int32_t ci_out = ct * kTile + int32_t(threadIdx.x);
  for (int64_t t = 0; t < fold.taps; ++t) {
    const int64_t x = valid ? fold_source(w, phase, t, int64_t(m)) : int64_t(-1);
    for (int k = threadIdx.y; k < kTile; k += kTileRowsPerPass) {
      const int32_t ci = ct * kTile + k;
      tile[k][threadIdx.x] = x >= 0 && ci < src.k ? in[ci * src.sk + x * src.sx] : T(0);
    }
    __syncthreads();
    if (ci_out < src.k)
      for (int k = threadIdx.y; k < kTile; k += kTileRowsPerPass)
        if (pt * kTile + k < tiles.positions)
          out[k * k_len + t * src.k + ci_out] = tile[threadIdx.x][k];
    __syncthreads();
  }
}

// One thread per B element, in B's order.
template <typename T>
__global__ void fold_weight_kernel(const T* __restrict__ weight, const Axis<int64_t> w,
                                   const Divider<int64_t> by_stride, const WidthFold<int64_t> fold,
                                   int64_t in_per_group, int64_t rows /* out_per_group * kh */,
                                   int64_t groups, T* __restrict__ dst) {
  const int64_t total = groups * fold.phases * rows * fold.taps * in_per_group;
  for (int64_t e = int64_t(blockIdx.x) * blockDim.x + threadIdx.x; e < total;
       e += int64_t(blockDim.x) * gridDim.x) {
    int64_t rest = e;
    const int64_t ci = rest % in_per_group;
    rest /= in_per_group;
    const int64_t t = rest % fold.taps;
    rest /= fold.taps;
    const int64_t ci_row = rest % rows;  // (c, i)
    rest /= rows;
    const int64_t r = rest % fold.phases, g = rest / fold.phases;
    const PhaseTaps<int64_t> phase = phase_taps(w, r, by_stride);
    dst[e] = t < phase.hits
                 ? weight[((g * in_per_group + ci) * rows + ci_row) * w.kernel + fold_tap(w, phase, t)]
                 : T(0);
  }
}

}  // namespace

void unfold_phases_cuda(at::ScalarType dtype, const OperandSource& src, const Axis<int64_t>& w,
                        const WidthFold<int64_t>& fold, void* dst) {
  const int64_t positions = src.samples * src.rows * fold.length;
  const int64_t c_tiles = (src.k + kTile - 1) / kTile;
  TORCH_CHECK(positions + kTile < (int64_t(1) << 31), "gemm_convt: unfolded chunk of ", positions,
              " positions is too large");
  const UnfoldTiles tiles{int32_t((positions + kTile - 1) / kTile), int32_t(c_tiles),
                          int32_t(fold.phases), int32_t(src.groups),
                          int32_t(positions), int32_t(fold.length), int32_t(src.rows)};
  const int64_t blocks = tiles.count();
  if (blocks == 0) return;
  TORCH_CHECK(blocks < (int64_t(1) << 31), "gemm_convt: unfolded operand of ", blocks,
              " tiles is too large");
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "gemm_convt_unfold", [&] {
    unfold_phases_kernel<scalar_t>
        <<<static_cast<unsigned>(blocks), dim3(kTile, kTileRowsPerPass), 0,
           at::cuda::getCurrentCUDAStream()>>>(src, w, Divider<int64_t>(w.stride), fold, tiles,
                                               static_cast<scalar_t*>(dst));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor fold_weight_cuda(const Problem& p, const ConvTranspose2dOptions& o,
                            const ColumnsShape& cs, const at::Tensor& weight) {
  const int64_t rows = p.out_per_group * p.kernel_h;
  at::Tensor b = at::empty({p.groups, cs.fold.phases, rows, cs.k_per_group}, weight.options());
  const int64_t total = b.numel();
  if (total == 0) return b;
  TORCH_INTERNAL_ASSERT(weight.is_contiguous());  // conv_transpose2d_cuda made it so
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t blocks = std::min<int64_t>((total + 255) / 256, sms * 8);
  const auto type = weight.scalar_type();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, type, "gemm_convt_fold_weight", [&] {
    fold_weight_kernel<scalar_t><<<static_cast<unsigned>(blocks), 256, 0,
                                   at::cuda::getCurrentCUDAStream()>>>(
        weight.data_ptr<scalar_t>(), width_axis<int64_t>(p, o), Divider<int64_t>(o.stride[1]), cs.fold,
        p.in_per_group, rows, p.groups, b.data_ptr<scalar_t>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return b;
}

}  // namespace gemm_convt
