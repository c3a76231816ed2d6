#include "fold_operand.cuh"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include "gemm_convt/divider.h"

namespace gemm_convt {
namespace {

// A tile of 32 positions m x 32 channels of one (group, phase, sample, row,
// slot) goes through shared memory: read along the input row (m), written
// along K (ci), both coalesced.
constexpr int kTile = 32, kTileRowsPerPass = 8;

struct UnfoldTiles {
  int64_t m_tiles, c_tiles, taps, sample_rows, phases, groups;
  int64_t count() const { return m_tiles * c_tiles * taps * sample_rows * phases * groups; }
};

template <typename T>
__global__ void __launch_bounds__(kTile * kTileRowsPerPass)
    unfold_phases_kernel(const OperandSource src, const Axis<int64_t> w,
                         const Divider<int64_t> by_stride, const WidthFold<int64_t> fold,
                         const UnfoldTiles tiles, T* __restrict__ dst) {
  __shared__ T tile[kTile][kTile + 1];
  // Block -> (m tile, channel tile, slot, (sample, row), phase, group), m fastest.
  int64_t b = blockIdx.x;
  const int64_t mt = b % tiles.m_tiles;
  b /= tiles.m_tiles;
  const int64_t ct = b % tiles.c_tiles;
  b /= tiles.c_tiles;
  const int64_t t = b % tiles.taps;
  b /= tiles.taps;
  const int64_t sr = b % tiles.sample_rows;
  b /= tiles.sample_rows;
  const int64_t r = b % tiles.phases;
  const int64_t g = b / tiles.phases;
  const int64_t n = sr / src.rows, row = sr - n * src.rows;
  const PhaseTaps<int64_t> phase = phase_taps(w, r, by_stride);

  const int64_t m = mt * kTile + threadIdx.x;
  const int64_t x = m < fold.length ? fold_source(w, phase, t, m) : int64_t(-1);
  const T* in = static_cast<const T*>(src.base) + n * src.ss + g * src.sg + row * src.sr;
  for (int k = threadIdx.y; k < kTile; k += kTileRowsPerPass) {
    const int64_t ci = ct * kTile + k;
    tile[k][threadIdx.x] = x >= 0 && ci < src.k ? in[ci * src.sk + x * src.sx] : T(0);
  }
  __syncthreads();
  const int64_t k_len = fold.taps * src.k, positions = src.samples * src.rows * fold.length;
  const int64_t ci = ct * kTile + threadIdx.x;
  if (ci >= src.k) return;
  T* out = dst + ((g * fold.phases + r) * positions + sr * fold.length) * k_len + t * src.k + ci;
  for (int k = threadIdx.y; k < kTile; k += kTileRowsPerPass) {
    const int64_t mm = mt * kTile + k;
    if (mm < fold.length) out[mm * k_len] = tile[threadIdx.x][k];
  }
}

// One thread per B element, in B's order.
template <typename T>
__global__ void fold_weight_kernel(const T* __restrict__ weight, const Axis<int64_t> w,
                                   const Divider<int64_t> by_stride, const WidthFold<int64_t> fold, int64_t in_per_group,
                                   int64_t rows /* out_per_group * kh */, int64_t groups,
                                   T* __restrict__ dst) {
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
  const UnfoldTiles tiles{(fold.length + kTile - 1) / kTile, (src.k + kTile - 1) / kTile,
                          fold.taps, src.samples * src.rows, fold.phases, src.groups};
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
  const at::Tensor w = weight.contiguous();
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t blocks = std::min<int64_t>((total + 255) / 256, sms * 8);
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, weight.scalar_type(), "gemm_convt_fold_weight", [&] {
    fold_weight_kernel<scalar_t><<<static_cast<unsigned>(blocks), 256, 0,
                                   at::cuda::getCurrentCUDAStream()>>>(
        w.data_ptr<scalar_t>(), width_axis<int64_t>(p, o), Divider<int64_t>(o.stride[1]), cs.fold,
        p.in_per_group, rows,
        p.groups, b.data_ptr<scalar_t>());
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return b;
}

}  // namespace gemm_convt
