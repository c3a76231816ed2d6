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

// x = hi + lo for split TF32 products: hi the TF32 rounding of x, lo the
// float32 remainder (0 where hi is not finite: inf stays in hi, not inf - inf).
__device__ __forceinline__ void tf32_split(float x, float& hi, float& lo) {
  hi = __uint_as_float(tf32_bits(x));
  lo = isfinite(hi) ? x - hi : 0.0f;
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
__device__ __forceinline__ void copy_async_commit() { asm volatile("cp.async.commit_group;\n"); }
// Waits until at most kPending of this thread's copy groups are in flight.
template <int kPending>
__device__ __forceinline__ void copy_async_wait() {
  asm volatile("cp.async.wait_group %0;\n" ::"n"(kPending));
}

}  // namespace gemm_convt
