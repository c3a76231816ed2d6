#pragma once

// Small PTX wrappers shared by the kernels (sm80+: cp.async, cvt.rna.tf32;
// sm90+: the bulk copy engine and the mbarriers it completes on; callers
// compile those only for __CUDA_ARCH__ >= 900).

#include <cstdint>

namespace gemm_convt {

// float rounded to TF32 (nearest, ties away), as its bits. A NaN stays a NaN:
// cvt.rna rounds one whose payload is only in its low bits to inf.
__device__ __forceinline__ uint32_t tf32_bits(float x) {
  uint32_t bits;
  asm("cvt.rna.tf32.f32 %0, %1;" : "=r"(bits) : "f"(x));
  return isnan(x) ? 0x7fffffffu : bits;
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

#if defined(__CUDA_ARCH__) && __CUDA_ARCH__ >= 900
__device__ __forceinline__ uint32_t smem_address(const void* p) {
  return static_cast<uint32_t>(__cvta_generic_to_shared(p));
}
// An mbarrier (8 bytes of shared memory) awaiting `arrivals` arrivals a phase.
__device__ __forceinline__ void mbarrier_init(uint64_t* bar, uint32_t arrivals) {
  asm volatile("mbarrier.init.shared::cta.b64 [%0], %1;" ::"r"(smem_address(bar)), "r"(arrivals));
  asm volatile("fence.mbarrier_init.release.cluster;" ::: "memory");
}
// One arrival that also expects `bytes` of bulk copies to complete this phase.
__device__ __forceinline__ void mbarrier_arrive_expect(uint64_t* bar, uint32_t bytes) {
  asm volatile("mbarrier.arrive.expect_tx.shared::cta.b64 _, [%0], %1;" ::"r"(smem_address(bar)),
               "r"(bytes)
               : "memory");
}
// Waits until phase `parity` (0, 1, 0, ...) of the barrier has completed.
__device__ __forceinline__ void mbarrier_wait(uint64_t* bar, uint32_t parity) {
  asm volatile(
      "{\n .reg .pred done;\n WAIT_%=:\n"
      " mbarrier.try_wait.parity.shared::cta.b64 done, [%0], %1;\n"
      " @!done bra WAIT_%=;\n}" ::"r"(smem_address(bar)),
      "r"(parity)
      : "memory");
}
// Bulk copy of `bytes` (a multiple of 16; both addresses 16-byte aligned)
// global -> shared, completing on `bar`.
__device__ __forceinline__ void bulk_copy_to_shared(void* smem, const void* gmem, uint32_t bytes,
                                                    uint64_t* bar) {
  asm volatile(
      "cp.async.bulk.shared::cluster.global.mbarrier::complete_tx::bytes [%0], [%1], %2, [%3];" ::"r"(
          smem_address(smem)),
      "l"(gmem), "r"(bytes), "r"(smem_address(bar))
      : "memory");
}
#endif

}  // namespace gemm_convt
