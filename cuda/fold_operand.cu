#include "fold_operand.cuh"

#include <ATen/Dispatch.h>
#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDAException.h>

#include <algorithm>
#include <cstdint>

#include "gemm_convt/divider.h"
#include "ptx.cuh"

namespace gemm_convt {
namespace {

// The unfold (v3): a block takes up to kUnfoldPositions positions (whole
// lines (n, row) x a range of m) of one group and kTileBytes of channels.
// Phase 1 reads the input columns those positions read for every (phase,
// slot) pair once (x from m0 + shifts.min to the tile's end + shifts.max,
// widened to whole vectors) into shared memory, one slot per x with its
// channels fastest: along the input row as 16-byte vectors where the layout
// allows (NCHW rows of whole vectors), transposed by 4-byte units
// (conflict-free stores); element by element otherwise. Phase 2 writes every
// pair's K-major rows of A from it, 16 bytes a thread where A's rows allow.
// Earlier versions (NOTES.md sessions 13 and 19) loaded each input value once
// per pair and stored A from shared memory one element at a time: 8.3 us
// (float32) and 12.9 us (float16) per fcn_up chunk of 8 MiB of A.
constexpr int kTileBytes = 128;               // channels of a tile: 128 bytes' worth
constexpr int kSlotPitch = kTileBytes + 16;   // shared bytes per x slot (spreads scalar stores)
constexpr int kUnfoldPositions = 64;
constexpr int kUnfoldThreads = 256;
constexpr int kMaxTileBytes = 40 * 1024;      // a block's shared memory, at most
constexpr int kChunks = kTileBytes / 16;      // 16-byte chunks of a slot

struct UnfoldPlan {
  int32_t groups, lines, rows, length, in_w, k, k_len, positions;
  int32_t row_len;  // A's row: k_len values, or 3 * k_len split (lo, cross, hi)
  int32_t m_tile, line_tile, m_tiles, line_tiles, c_tiles;
  int32_t align, x_span;  // slot s of a block holds x = xa + s, xa a multiple of align
  Divider<int32_t> by_rows, by_m_tile;
  bool vector_loads, vector_stores;
  int64_t count() const { return int64_t(m_tiles) * line_tiles * c_tiles * groups; }
};

// Channels one 4-byte unit of a slot holds (one 8-byte element for double).
template <typename T>
constexpr int unit_channels() {
  return sizeof(T) >= 4 ? 1 : 4 / int(sizeof(T));
}
template <typename T>
struct alignas(unit_channels<T>() * sizeof(T)) ChannelUnit {
  T v[unit_channels<T>()];
};
template <typename T>
struct alignas(16) Vector16 {
  T v[16 / sizeof(T)];
};

__device__ __forceinline__ int32_t floor_to(int32_t x, int32_t a) {
  return (x >= 0 ? x / a : -((-x + a - 1) / a)) * a;
}

// Values of A's row stored at dst: as they are, or (kSplit: float32 for
// three TF32 products) as their parts lo, cross, hi, k_len apart (operand.cuh's
// input order).
template <bool kSplit, typename V>
__device__ __forceinline__ void store_a(V* dst, const V& value, int32_t k_len) {
  if constexpr (kSplit) {
    constexpr int kN = sizeof(V) / sizeof(float);
    const float* v = reinterpret_cast<const float*>(&value);
    V hi, cross, lo;
#pragma unroll
    for (int e = 0; e < kN; ++e) {
      const Tf32Parts x = tf32_parts(v[e]);
      reinterpret_cast<float*>(&hi)[e] = x.hi;
      reinterpret_cast<float*>(&cross)[e] = x.cross;
      reinterpret_cast<float*>(&lo)[e] = x.lo;
    }
    const size_t part = size_t(k_len) * sizeof(float);
    char* at = reinterpret_cast<char*>(dst);
    *dst = lo;
    *reinterpret_cast<V*>(at + part) = cross;
    *reinterpret_cast<V*>(at + 2 * part) = hi;
  } else {
    *dst = value;
  }
}

template <typename T, bool kSplit>
__global__ void __launch_bounds__(kUnfoldThreads)
    unfold_phases_kernel(const OperandSource src, const int32_t hit_q_step,
                         const FoldPhases phases, const WidthFold<int32_t> fold,
                         const UnfoldPlan plan, T* __restrict__ dst) {
  constexpr int kChannels = kTileBytes / int(sizeof(T));
  constexpr int kV = 16 / int(sizeof(T));  // values per 16-byte vector
  constexpr int kCW = unit_channels<T>();
  constexpr int kUnits = kChannels / kCW;
  extern __shared__ __align__(16) unsigned char tile[];
  int32_t b = int32_t(blockIdx.x);  // -> (m tile, line tile, channel tile, group)
  const int32_t mt = b % plan.m_tiles;
  b /= plan.m_tiles;
  const int32_t lt = b % plan.line_tiles;
  b /= plan.line_tiles;
  const int32_t ct = b % plan.c_tiles, g = b / plan.c_tiles;
  const int32_t m0 = mt * plan.m_tile, line0 = lt * plan.line_tile, c0 = ct * kChannels;
  const int32_t xa = floor_to(m0 + phases.shift_min, plan.align);
  const int32_t tid = int32_t(threadIdx.x);
  const T* in_group = static_cast<const T*>(src.base) + g * src.sg;
  const auto line_input = [&](int32_t line) {  // input row of line (n, row)
    const int32_t n = plan.by_rows.div(line), row = line - n * plan.rows;
    return in_group + n * src.ss + row * src.sr;
  };
  const auto slot_at = [&](int32_t l, int32_t s) { return tile + (l * plan.x_span + s) * kSlotPitch; };

  // Phase 1: the tile's input columns into shared memory.
  if (plan.vector_loads) {
    // Task: one unit of channels x two vectors along x (a 32-byte sector per channel).
    const int32_t pairs_per_line = plan.x_span / (2 * kV);
    const int32_t tasks = plan.line_tile * pairs_per_line * kUnits;
    for (int32_t task = tid; task < tasks; task += kUnfoldThreads) {
      const int32_t u = task % kUnits, rest = task / kUnits;
      const int32_t xp = rest % pairs_per_line, l = rest / pairs_per_line;
      if (line0 + l >= plan.lines) continue;  // never read
      const T* in = line_input(line0 + l);
      Vector16<T> v[kCW][2];
#pragma unroll
      for (int j = 0; j < kCW; ++j) {
        const int32_t c = c0 + u * kCW + j;
#pragma unroll
        for (int h = 0; h < 2; ++h) {
          const int32_t x = xa + xp * 2 * kV + h * kV;  // whole vectors: all in or all out
          if (c < plan.k && x >= 0 && x < plan.in_w)
            v[j][h] = *reinterpret_cast<const Vector16<T>*>(in + int64_t(c) * src.sk + x);
          else
#pragma unroll
            for (int e = 0; e < kV; ++e) v[j][h].v[e] = T(0);
        }
      }
#pragma unroll
      for (int h = 0; h < 2; ++h)
#pragma unroll
        for (int e = 0; e < kV; ++e) {
          ChannelUnit<T> unit;
#pragma unroll
          for (int j = 0; j < kCW; ++j) unit.v[j] = v[j][h].v[e];
          *reinterpret_cast<ChannelUnit<T>*>(slot_at(l, xp * 2 * kV + h * kV + e) +
                                             u * int32_t(sizeof(unit))) = unit;
        }
    }
  } else {
    // Element by element, channels fastest where they are contiguous.
    const bool channel_fast = src.sk == 1;
    const int32_t per_line = plan.x_span * kChannels;
    const int32_t tasks = plan.line_tile * per_line;
    for (int32_t task = tid; task < tasks; task += kUnfoldThreads) {
      const int32_t l = task / per_line, e = task - l * per_line;
      const int32_t s = channel_fast ? e / kChannels : e % plan.x_span;
      const int32_t c = channel_fast ? e % kChannels : e / plan.x_span;
      if (line0 + l >= plan.lines) continue;
      const int32_t x = xa + s, ci = c0 + c;
      const T value = ci < plan.k && x >= 0 && x < plan.in_w
                          ? line_input(line0 + l)[int64_t(ci) * src.sk + int64_t(x) * src.sx]
                          : T(0);
      reinterpret_cast<T*>(slot_at(l, s))[c] = value;
    }
  }
  __syncthreads();

  // Phase 2: each pair's rows of A, K-major (the pair's slot t at t * k).
  const int32_t block_positions = plan.line_tile * plan.m_tile;
  for (int32_t r = 0; r < fold.phases; ++r) {
    const int32_t hits = phases.hits[r], base = phases.base[r];
    T* plane = dst + int64_t(g * fold.phases + r) * plan.positions * plan.row_len + c0;
    for (int32_t t = 0; t < fold.taps; ++t) {
      const int32_t shift = base - t * hit_q_step;  // x - m (slots < hits)
      if (plan.vector_stores) {
        for (int32_t task = tid; task < block_positions * kChunks; task += kUnfoldThreads) {
          const int32_t cc = task % kChunks, pp = task / kChunks;
          const int32_t l = plan.by_m_tile.div(pp), m = m0 + pp - l * plan.m_tile;
          if (m >= plan.length || line0 + l >= plan.lines || c0 + cc * kV >= plan.k) continue;
          Vector16<T> value;
          if (t < hits)
            value = *reinterpret_cast<const Vector16<T>*>(slot_at(l, m + shift - xa) + cc * 16);
          else
#pragma unroll
            for (int e = 0; e < kV; ++e) value.v[e] = T(0);
          const int64_t pos = int64_t(line0 + l) * plan.length + m;
          store_a<kSplit>(reinterpret_cast<Vector16<T>*>(plane + pos * plan.row_len + t * plan.k + cc * kV),
                          value, plan.k_len);
        }
      } else {
        for (int32_t task = tid; task < block_positions * kChannels; task += kUnfoldThreads) {
          const int32_t c = task % kChannels, pp = task / kChannels;
          const int32_t l = plan.by_m_tile.div(pp), m = m0 + pp - l * plan.m_tile;
          if (m >= plan.length || line0 + l >= plan.lines || c0 + c >= plan.k) continue;
          const T value =
              t < hits ? reinterpret_cast<const T*>(slot_at(l, m + shift - xa))[c] : T(0);
          const int64_t pos = int64_t(line0 + l) * plan.length + m;
          store_a<kSplit>(plane + pos * plan.row_len + t * plan.k + c, value, plan.k_len);
        }
      }
    }
  }
}

// One thread per weight row (g, ci, (c, i)): it reads the row's kw taps (one
// run of the weight; consecutive threads take consecutive ci, so B's stores
// are coalesced) and writes them to every (phase, slot) of B[g][r][(c, i)]
// [t * k + ci] (split: its parts cross, lo, hi at [part * slots * k + t * k +
// ci], operand.cuh's weight order). Earlier, one thread per B element with 64-bit
// divisions read one scattered weight value each: 27 us for dcgan's 8 MiB
// (NOTES.md session 22).
template <typename T, typename index_t, bool kSplit>
__global__ void fold_weight_kernel(const T* __restrict__ weight, const FoldPhases phases,
                                   int32_t phase_count, int32_t slots, int32_t hit_step,
                                   int32_t kernel_w, const Divider<index_t> by_k,
                                   const Divider<index_t> by_rows, index_t weight_rows,
                                   T* __restrict__ dst) {
  const index_t step = index_t(blockDim.x) * index_t(gridDim.x);
  const index_t k = by_k.divisor, rows = by_rows.divisor;
  for (index_t e = index_t(blockIdx.x) * blockDim.x + threadIdx.x; e < weight_rows; e += step) {
    const index_t rest = by_k.div(e), ci = e - rest * k;
    const index_t g = by_rows.div(rest), ci_row = rest - g * rows;  // (c, i)
    const T* taps = weight + ((g * k + ci) * rows + ci_row) * kernel_w;
    const index_t row_len = slots * k * (kSplit ? 3 : 1);
    for (int32_t r = 0; r < phase_count; ++r) {
      T* out = dst + ((g * phase_count + r) * rows + ci_row) * row_len + ci;
      const int32_t hits = phases.hits[r], first = phases.first[r];
      for (int32_t t = 0; t < slots; ++t) {
        const T value = t < hits ? taps[first + t * hit_step] : T(0);
        if constexpr (kSplit) {
          const Tf32Parts w = tf32_parts(value);
          out[t * k] = w.cross;
          out[(slots + t) * k] = w.lo;
          out[(2 * slots + t) * k] = w.hi;
        } else {
          out[t * k] = value;
        }
      }
    }
  }
}

}  // namespace

FoldPhases fold_phases(const Axis<int64_t>& w, const WidthFold<int64_t>& fold) {
  TORCH_INTERNAL_ASSERT(fold.phases <= kMaxFoldPhases);  // ColumnsShape folds no wider stride
  const Divider<int64_t> by_stride(w.stride);
  FoldPhases phases{};
  for (int64_t r = 0; r < fold.phases; ++r) {
    const PhaseTaps<int64_t> phase = phase_taps(w, r, by_stride);
    phases.first[r] = int32_t(phase.first);
    phases.hits[r] = int32_t(phase.hits);
    phases.base[r] = int32_t(phase.base);
  }
  const FoldShifts<int64_t> shifts = fold_shifts(w, fold.phases, by_stride);
  phases.shift_min = int32_t(shifts.min);
  phases.shift_max = int32_t(shifts.max);
  return phases;
}

void unfold_phases_cuda(at::ScalarType dtype, const OperandSource& src, const Axis<int64_t>& w,
                        const WidthFold<int64_t>& fold, const FoldPhases& phases, bool split,
                        void* dst) {
  TORCH_INTERNAL_ASSERT(!split || dtype == at::kFloat);
  const int64_t lines = src.samples * src.rows;
  const int64_t positions = lines * fold.length;
  const int64_t k_len = fold.taps * src.k;
  TORCH_CHECK(positions + kUnfoldPositions < (int64_t(1) << 31) && 3 * k_len < (int64_t(1) << 31) &&
                  std::max(w.in_size, w.out_size) < (int64_t(1) << 30),
              "gemm_convt: unfolded chunk of ", positions, " positions x ", k_len,
              " values is too large");
  if (positions == 0 || src.k == 0) return;
  const int64_t esize = c10::elementSize(dtype);
  const int64_t channels = kTileBytes / esize, v = 16 / esize;
  const int64_t spread = int64_t(phases.shift_max) - phases.shift_min;
  TORCH_INTERNAL_ASSERT(spread <= kMaxFoldShiftSpread);  // width_fold_applies
  // 16-byte loads along NCHW rows of whole vectors (each vector then lies
  // inside the row or outside it).
  const auto whole = [&](int64_t stride) { return stride % v == 0; };
  const bool vector_loads = src.sx == 1 && w.in_size % v == 0 && whole(src.ss) && whole(src.sg) &&
                            whole(src.sk) && whole(src.sr) &&
                            reinterpret_cast<uintptr_t>(src.base) % 16 == 0;
  const bool vector_stores =
      (src.k * esize) % 16 == 0 && reinterpret_cast<uintptr_t>(dst) % 16 == 0;
  const int64_t align = vector_loads ? 2 * v : 1;
  const int64_t m_tile = std::min<int64_t>(fold.length, kUnfoldPositions);
  // Slots a block reads past xa (its first x rounded down to align): at most
  // m_tile + spread + align - 1, rounded up to whole pairs of vectors.
  const int64_t x_span = (m_tile + spread + align - 1 + align - 1) / align * align;
  int64_t line_tile = std::max<int64_t>(1, std::min<int64_t>(kUnfoldPositions / m_tile, lines));
  while (line_tile > 1 && line_tile * x_span * kSlotPitch > kMaxTileBytes) --line_tile;
  UnfoldPlan plan;
  plan.lines = int32_t(lines);
  plan.rows = int32_t(src.rows);
  plan.length = int32_t(fold.length);
  plan.in_w = int32_t(w.in_size);
  plan.k = int32_t(src.k);
  plan.k_len = int32_t(k_len);
  plan.row_len = int32_t(split ? 3 * k_len : k_len);
  plan.positions = int32_t(positions);
  plan.m_tile = int32_t(m_tile);
  plan.line_tile = int32_t(line_tile);
  plan.m_tiles = int32_t((fold.length + m_tile - 1) / m_tile);
  plan.line_tiles = int32_t((lines + line_tile - 1) / line_tile);
  plan.c_tiles = int32_t((src.k + channels - 1) / channels);
  plan.groups = int32_t(src.groups);
  plan.align = int32_t(align);
  plan.x_span = int32_t(x_span);
  plan.by_rows = Divider<int32_t>(int32_t(src.rows));
  plan.by_m_tile = Divider<int32_t>(int32_t(m_tile));
  plan.vector_loads = vector_loads;
  plan.vector_stores = vector_stores;
  const int64_t blocks = plan.count();
  if (blocks == 0) return;
  TORCH_CHECK(blocks < (int64_t(1) << 31), "gemm_convt: unfolded operand of ", blocks,
              " tiles is too large");
  const size_t shared = size_t(line_tile * x_span * kSlotPitch);
  const WidthFold<int32_t> fold32{int32_t(fold.phases), int32_t(fold.length), int32_t(fold.taps)};
  const auto stream = at::cuda::getCurrentCUDAStream();
  if (split) {
    unfold_phases_kernel<float, true><<<static_cast<unsigned>(blocks), kUnfoldThreads, shared, stream>>>(
        src, int32_t(w.hit_q_step), phases, fold32, plan, static_cast<float*>(dst));
  } else {
    AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, dtype, "gemm_convt_unfold", [&] {
      unfold_phases_kernel<scalar_t, false><<<static_cast<unsigned>(blocks), kUnfoldThreads, shared, stream>>>(
          src, int32_t(w.hit_q_step), phases, fold32, plan, static_cast<scalar_t*>(dst));
    });
  }
  C10_CUDA_KERNEL_LAUNCH_CHECK();
}

at::Tensor fold_weight_cuda(const Problem& p, const Axis<int64_t>& w, const ColumnsShape& cs,
                            const FoldPhases& phases, bool split, const at::Tensor& weight) {
  TORCH_INTERNAL_ASSERT(!split || weight.scalar_type() == at::kFloat);
  const int64_t rows = p.out_per_group * p.kernel_h;
  at::Tensor b = at::empty({p.groups, cs.fold.phases, rows, (split ? 3 : 1) * cs.k_per_group},
                           weight.options());
  const int64_t total = b.numel();
  if (total == 0) return b;
  TORCH_INTERNAL_ASSERT(weight.is_contiguous());  // conv_transpose2d_cuda made it so
  const int64_t sms = at::cuda::getCurrentDeviceProperties()->multiProcessorCount;
  const int64_t weight_rows = p.groups * p.in_per_group * rows;  // one thread each
  const int64_t threads = 256,
                blocks = std::min<int64_t>((weight_rows + threads - 1) / threads, sms * 16);
  const auto type = weight.scalar_type();
  const auto stream = at::cuda::getCurrentCUDAStream();
  AT_DISPATCH_FLOATING_TYPES_AND2(at::kHalf, at::kBFloat16, type, "gemm_convt_fold_weight", [&] {
    const auto launch = [&](auto index) {
      using index_t = decltype(index);
      const auto kernel = split ? fold_weight_kernel<scalar_t, index_t, std::is_same<scalar_t, float>::value>
                                : fold_weight_kernel<scalar_t, index_t, false>;
      kernel<<<static_cast<unsigned>(blocks), threads, 0, stream>>>(
          weight.data_ptr<scalar_t>(), phases, int32_t(cs.fold.phases), int32_t(cs.fold.taps),
          int32_t(w.hit_step), int32_t(w.kernel), Divider<index_t>(index_t(p.in_per_group)),
          Divider<index_t>(index_t(rows)), index_t(weight_rows), b.data_ptr<scalar_t>());
    };
    // B's offsets (>= the weight's) in 32 bits where they fit: multiply-shift divisions.
    if (total + blocks * threads < (int64_t(1) << 31))
      launch(int32_t(0));
    else
      launch(int64_t(0));
  });
  C10_CUDA_KERNEL_LAUNCH_CHECK();
  return b;
}

}  // namespace gemm_convt
