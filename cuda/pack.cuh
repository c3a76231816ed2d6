#pragma once

// A chunk's NCHW input with its samples side by side (channels x samples x
// band pixels), as the columns GEMM and grad_weight read it. Each (channel,
// sample) pair is one contiguous run of the band's pixels in both tensors, so
// the pack is a list of equal runs: copied in 16-byte units where sizes and
// addresses allow. torch's copy of the transposed view ran at ~0.4 TB/s on
// dcgan's 2.8 MB chunks (six per forward, ~13 us each).

#include <cstdint>

namespace gemm_convt {

// dst[(c * samples + n) * run_bytes + b] = src[n * sample_bytes + c * channel_bytes + b]
// for c < channels, n < samples, b < run_bytes; on torch's current stream.
void pack_runs_cuda(const void* src, int64_t samples, int64_t channels, int64_t sample_bytes,
                    int64_t channel_bytes, int64_t run_bytes, void* dst);

}  // namespace gemm_convt
