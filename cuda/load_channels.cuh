#pragma once

// kChannels accumulation-type values from shared memory, 16 bytes at a time
// (the gathers' weights, [ci][tap][channel]: one input value meets them all).

namespace gemm_convt {

template <int kChannels>
__device__ __forceinline__ void load_channels(const float* src, float (&dst)[kChannels]) {
#pragma unroll
  for (int c = 0; c < kChannels; c += 4) {
    const float4 v = *reinterpret_cast<const float4*>(src + c);
    dst[c] = v.x, dst[c + 1] = v.y, dst[c + 2] = v.z, dst[c + 3] = v.w;
  }
}
template <int kChannels>
__device__ __forceinline__ void load_channels(const double* src, double (&dst)[kChannels]) {
#pragma unroll
  for (int c = 0; c < kChannels; c += 2) {
    const double2 v = *reinterpret_cast<const double2*>(src + c);
    dst[c] = v.x, dst[c + 1] = v.y;
  }
}

}  // namespace gemm_convt
