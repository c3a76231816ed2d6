#pragma once

// Small PTX wrappers shared by the kernels (sm80+: cp.async, cvt.rna.tf32).

#include <cstdint>

namespace gemm_convt {

// float rounded to TF32 (nearest, ties away), as its bits. A NaN stays a NaN:
// cvt.rna rounds one whose payload is only in its low bits to inf.
__device__ __forceinline__ uint32_t tf32_bits(float x) {
  uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return isnan(x) ? 0x7fffffffu : bits;
}

// x = hi + lo for split TF32 products (operand.cuh): hi the TF32 rounding of
// x (truncated where rounding would overflow, as near float32's largest
// values), lo the float32 remainder, and cross the copy of hi that the cross
// products take. cross and lo are 0 where hi is not finite, so an inf or NaN
// reaches the sum through hi x hi alone, with no inf x 0 or inf - inf that
// torch's result would not have.
struct Tf32Parts {
  float hi, cross, lo;
};
__device__ __forceinline__ Tf32Parts tf32_parts(float x) {
  uint32_t bits = tf32_bits(x);  // a NaN made one the tensor cores keep
  if (isinf(__uint_as_float(bits)) && isfinite(x)) bits = __float_as_uint(x) & 0xffffe000u;
  const float hi = __uint_as_float(bits);
  const bool finite = isfinite(hi);
  return Tf32Parts{hi, finite ? hi : 0.0f, finite ? x - hi : 0.0f};
}

// cp.async: 16 bytes global -> shared (a shared-memory address, or a pointer).
__device__ __forceinline__ void copy_async_16(uint32_t smem_address, const void* gmem) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16;\n" ::"r"(smem_address), "l"(gmem));
}
__device__ __forceinline__ void copy_async_16(void* smem, const void* gmem) {
  copy_async_16(static_cast<uint32_t>(__cvta_generic_to_shared(smem)), gmem);
}
// ... or 16 zero bytes where !inside (gmem is not read then).
__device__ __forceinline__ void copy_async_16(uint32_t smem_address, const void* gmem, bool inside) {
  asm volatile("cp.async.cg.shared.global [%0], [%1], 16, %2;\n" ::"r"(smem_address), "l"(gmem),
               "r"(inside ? 16 : 0));
}
__device__ __forceinline__ void copy_async_16(void* smem, const void* gmem, bool inside) {
  copy_async_16(static_cast<uint32_t>(__cvta_generic_to_shared(smem)), gmem, inside);
}
// cp.async of one 4- or 8-byte element (cached in L1), or zeros where !inside
// (gmem is not read then).
template <typename T>
__device__ __forceinline__ void copy_async_element(T* smem, const T* gmem, bool inside) {
  static_assert(sizeof(T) == 4 || sizeof(T) == 8, "cp.async copies 4, 8 or 16 bytes");
  asm volatile("cp.async.ca.shared.global [%0], [%1], %2, %3;\n" ::"r"(
                   static_cast<uint32_t>(__cvta_generic_to_shared(smem))),
               "l"(gmem), "n"(int(sizeof(T))), "r"(inside ? int(sizeof(T)) : 0));
}
__device__ __forceinline__ void copy_async_commit() { asm volatile("cp.async.commit_group;\n"); }
// Waits until at most kPending of this thread's copy groups are in flight.
template <int kPending>
__device__ __forceinline__ void copy_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

}  // namespace gemm_convt
