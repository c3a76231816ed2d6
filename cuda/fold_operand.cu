#include "fold_operand.cuh"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdint>

#include "gemm_convt/divider.h"

namespace gemm_convt {
namespace {

// A block takes kPositions consecutive positions (n, row, m) of one group x
// kChannels channels, for every (phase, slot) pair of the fold. Each pass
// gathers the tiles of up to pairs_per_pass() pairs into shared memory: each
// thread first finds the input column of its position for every pair of the
// pass, then issues all its loads (read along the input row: consecutive m
// across a warp), then stores them to the tiles; after one barrier it writes
// each position's channels along K (16 bytes a thread where A's rows allow).
// The phases' taps are found once per block, in shared memory. Earlier
// versions (ncu, NOTES.md session 19): one pair per block with 4-byte stores,
// 12.6 us per fcn_up chunk (8 MiB of A); all pairs per block but each pair's
// loads waiting on its tap search, 10.3 us, bound by issue (index math).
// 32-bit index arithmetic (the host checks a chunk's positions fit), 64-bit
// only for addresses.
constexpr int kPositions = 32, kChannels = 32, kThreadRows = 8;
constexpr int kUnfoldThreads = kPositions * kThreadRows;

template <typename T>
constexpr int pairs_per_pass() {
  return sizeof(T) > 4 ? 2 : 4;  // <= 16.5 KB of tiles
}

struct UnfoldTiles {
  int32_t p_tiles, c_tiles, groups, positions, length, rows;
  Divider<int32_t> by_length, by_rows;
  bool vector_stores;  // K a multiple of 16 bytes' elements, A 16-byte aligned
  int64_t count() const { return int64_t(p_tiles) * c_tiles * groups; }
};

template <typename T>
__global__ void __launch_bounds__(kUnfoldThreads, 4)
    unfold_phases_kernel(const OperandSource src, const Axis<int32_t> w,
                         const Divider<int32_t> by_stride, const WidthFold<int32_t> fold,
                         const UnfoldTiles tiles, T* __restrict__ dst) {
  constexpr int kPairs = pairs_per_pass<T>();
  constexpr int kVector = 16 / int(sizeof(T));  // elements per 16-byte store
  constexpr int kRowsPerThread = kChannels / kThreadRows;
  __shared__ T tile[kPairs][kChannels][kPositions + 1];
  __shared__ int32_t phase_hits[kMaxFoldPhases], phase_base[kMaxFoldPhases];
  int32_t b = int32_t(blockIdx.x);  // -> (position tile, channel tile, group)
  const int32_t pt = b % tiles.p_tiles;
  b /= tiles.p_tiles;
  const int32_t ct = b % tiles.c_tiles, g = b / tiles.c_tiles;
  const int32_t p0 = pt * kPositions, c0 = ct * kChannels, k = int32_t(src.k);
  const int32_t k_len = fold.taps * k, pairs = fold.phases * fold.taps;
  const int32_t tid = int32_t(threadIdx.y) * kPositions + int32_t(threadIdx.x);
  if (tid < fold.phases) {  // <= kMaxFoldPhases (problem.h)
    const PhaseTaps<int32_t> phase = phase_taps(w, tid, by_stride);
    phase_hits[tid] = phase.hits;
    phase_base[tid] = phase.base;
  }
  __syncthreads();
  const auto taps_of = [&](int32_t r) { return PhaseTaps<int32_t>{0, phase_hits[r], phase_base[r]}; };

  // Load side: position p0 + threadIdx.x, channels threadIdx.y + i * kThreadRows.
  const int32_t p = p0 + int32_t(threadIdx.x);
  const bool valid = p < tiles.positions;
  const int32_t n_row = tiles.by_length.div(p), m = p - n_row * tiles.length;
  const int32_t n = tiles.by_rows.div(n_row), row = n_row - n * tiles.rows;
  const T* in = static_cast<const T*>(src.base) + n * src.ss + g * src.sg + row * src.sr;

  for (int32_t pair0 = 0; pair0 < pairs; pair0 += kPairs) {
    const int32_t r0 = pair0 / fold.taps, t0 = pair0 - r0 * fold.taps;
    int32_t x[kPairs];
#pragma unroll
    for (int q = 0, r = r0, t = t0; q < kPairs; ++q) {  // (r, t) = pair pair0 + q
      x[q] = valid && pair0 + q < pairs ? fold_source(w, taps_of(r), t, m) : -1;
      if (++t == fold.taps) {
        t = 0;
        ++r;
      }
    }
    T values[kPairs][kRowsPerThread];
#pragma unroll
    for (int q = 0; q < kPairs; ++q) {
#pragma unroll
      for (int i = 0; i < kRowsPerThread; ++i) {
        const int32_t ci = c0 + int32_t(threadIdx.y) + i * kThreadRows;
        values[q][i] = x[q] >= 0 && ci < k ? in[ci * src.sk + x[q] * src.sx] : T(0);
      }
    }
#pragma unroll
    for (int q = 0; q < kPairs; ++q) {
#pragma unroll
      for (int i = 0; i < kRowsPerThread; ++i)
        tile[q][int32_t(threadIdx.y) + i * kThreadRows][threadIdx.x] = values[q][i];
    }
    __syncthreads();
    for (int q = 0, r = r0, t = t0; q < kPairs && pair0 + q < pairs; ++q) {
      T* out = dst + (int64_t(g * fold.phases + r) * tiles.positions + p0) * k_len + t * k + c0;
      if (tiles.vector_stores) {
        // Thread v: position v / per_position, channels (v % per_position) * kVector on.
        constexpr int kPerPosition = kChannels / kVector;
        for (int32_t v = tid; v < kPositions * kPerPosition; v += kUnfoldThreads) {
          const int32_t pp = v / kPerPosition, c = (v - pp * kPerPosition) * kVector;
          if (p0 + pp >= tiles.positions || c0 + c >= k) continue;
          alignas(16) T stored[kVector];
#pragma unroll
          for (int e = 0; e < kVector; ++e) stored[e] = tile[q][c + e][pp];
          *reinterpret_cast<uint4*>(out + int64_t(pp) * k_len + c) =
              *reinterpret_cast<const uint4*>(stored);
        }
      } else {
        for (int32_t v = tid; v < kPositions * kChannels; v += kUnfoldThreads) {
          const int32_t pp = v / kChannels, c = v - pp * kChannels;
          if (p0 + pp < tiles.positions && c0 + c < k) out[int64_t(pp) * k_len + c] = tile[q][c][pp];
        }
      }
      if (++t == fold.taps) {
        t = 0;
        ++r;
      }
    }
    __syncthreads();
  }
}

template <typename index_t>
Axis<int32_t> axis32(const Axis<index_t>& a) {
  return Axis<int32_t>{int32_t(a.in_size), int32_t(a.out_size), int32_t(a.kernel),
                       int32_t(a.stride),  int32_t(a.pad),      int32_t(a.dil_div),
                       int32_t(a.dil_mod), int32_t(a.hit_step), int32_t(a.hit_q_step)};
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
  const int64_t c_tiles = (src.k + kChannels - 1) / kChannels;
  const int64_t k_len = fold.taps * src.k;
  TORCH_INTERNAL_ASSERT(fold.phases <= kMaxFoldPhases);  // ColumnsShape folds no wider stride
  TORCH_CHECK(positions + kPositions < (int64_t(1) << 31) && k_len < (int64_t(1) << 31) &&
                  std::max(w.in_size, w.out_size) < (int64_t(1) << 30),
              "gemm_convt: unfolded chunk of ", positions, " positions x ", k_len,
              " values is too large");
  const int64_t esize = c10::elementSize(dtype);
  const bool vector_stores =
      (src.k * esize) % 16 == 0 && reinterpret_cast<uintptr_t>(dst) % 16 == 0;
  const UnfoldTiles tiles{int32_t((positions + kPositions - 1) / kPositions), int32_t(c_tiles),
                          int32_t(src.groups), int32_t(positions), int32_t(fold.length),
                          int32_t(src.rows), Divider<int32_t>(int32_t(fold.length)),
                          Divider<int32_t>(int32_t(src.rows)), vector_stores};
  const int64_t blocks = tiles.count();
  if (blocks == 0) return;
  TORCH_CHECK(blocks < (int64_t(1) << 31), "gemm_convt: unfolded operand of ", blocks,
              " tiles is too large");
  const WidthFold<int32_t> fold32{int32_t(fold.phases), int32_t(fold.length), int32_t(fold.taps)};
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "gemm_convt_unfold", [&] {
    unfold_phases_kernel<scalar_t>
        <<<static_cast<unsigned>(blocks), dim3(kPositions, kThreadRows), 0,
           at::cuda::getCurrentCUDAStream()>>>(src, axis32(w), Divider<int32_t>(int32_t(w.stride)),
                                               fold32, tiles, static_cast<scalar_t*>(dst));
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
