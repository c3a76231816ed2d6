#pragma once

// TF32 tensor-core products shared by the implicit GEMM (forward) and the
// implicit grad_weight: mma.sync m16n8k8, float32 split into three TF32
// products where TF32 is not allowed, staged values (sm80+).

#include <cstdint>
#include <type_traits>

#include "ptx.cuh"

namespace gemm_convt {

#if !defined(__CUDA_ARCH__) || __CUDA_ARCH__ >= 800
__device__ __forceinline__ void mma_tf32(float (&c)[4], const uint32_t (&a)[4], uint32_t b0,
                                         uint32_t b1) {
  asm volatile(
      "mma.sync.aligned.m16n8k8.row.col.f32.tf32.tf32.f32 {%0,%1,%2,%3}, {%4,%5,%6,%7}, "
      "{%8,%9}, {%0,%1,%2,%3};\n"
      : "+f"(c[0]), "+f"(c[1]), "+f"(c[2]), "+f"(c[3])
      : "r"(a[0]), "r"(a[1]), "r"(a[2]), "r"(a[3]), "r"(b0), "r"(b1));
}

// The three TF32 products of a split fragment pair, smallest terms first:
// lo x cross, cross x lo, hi x hi (split_tf32 below makes the parts).
__device__ __forceinline__ void mma_three_products(
    float (&c)[4], const uint32_t (&a_hi)[4], const uint32_t (&a_x)[4], const uint32_t (&a_lo)[4],
    const uint32_t (&b_hi)[2], const uint32_t (&b_x)[2], const uint32_t (&b_lo)[2]) {
  mma_tf32(c, a_lo, b_x[0], b_x[1]);
  mma_tf32(c, a_x, b_lo[0], b_lo[1]);
  mma_tf32(c, a_hi, b_hi[0], b_hi[1]);
}

// x = high + low: high is x rounded to TF32 (ties away from zero) by integer
// ops, low the exact remainder (|low| <= 2^-11 |x|), which the tensor cores
// read as TF32 by truncation (error <= 2^-21 |x|, as the dropped low x low).
// Integer and float ops only: cvt.rna.tf32 in their place measured slower.
// cross is the high part the cross products take. kGuard (the rerun after a
// non-finite output): a value whose rounding overflows is truncated instead,
// and a NaN made one the tensor cores keep (their truncation would read a NaN
// with only low payload bits as inf); an infinite or NaN high part leaves low
// and cross at zero, so the cross products add no inf - inf or 0 x inf NaN
// that torch would not have. The guard's selects cost 10-18% when always on,
// and 9-31% when chosen per step inside the kernel (more registers), hence
// the rerun.
template <bool kGuard>
__device__ __forceinline__ void split_tf32(uint32_t x, uint32_t& high, uint32_t& cross,
                                           uint32_t& low) {
  high = (x + 0x1000u) & 0xffffe000u;
  if (kGuard && !(fabsf(__uint_as_float(high)) < INFINITY))
    high = isnan(__uint_as_float(x)) ? 0x7fffffffu : x & 0xffffe000u;
  const float h = __uint_as_float(high);
  const bool finite = !kGuard || fabsf(h) < INFINITY;
  cross = finite ? high : 0u;
  low = finite ? __float_as_uint(__uint_as_float(x) - h) : 0u;
}

// Staged values: float32 rounded to TF32 once here when one product is taken;
// kept whole for the split; float16/bfloat16 are exact in TF32.
template <bool kSplit, typename scalar_t>
__device__ __forceinline__ float staged(scalar_t v) {
  const float f = static_cast<float>(v);
  return (std::is_same<scalar_t, float>::value && !kSplit) ? __uint_as_float(tf32_bits(f)) : f;
}

#endif

}  // namespace gemm_convt
