#pragma once

// How the columns workspace is cut into chunks (host code, CPU and CUDA).
// The columns of a whole batch never exist at once: a chunk is as many whole
// samples as fit the budget, else as many groups of one sample, else as many
// output channels of one group (at least one channel, even over budget).

#include <algorithm>
#include <cstdint>

namespace gemm_convt {

struct ChunkShape {
  int64_t samples, groups, channels;
};

struct Chunk {
  int64_t n0, samples, g0, groups, c0, channels;
};

inline ChunkShape plan_chunks(int64_t batch, int64_t groups, int64_t channels_per_group,
                              int64_t plane_elems, int64_t budget_elems) {
  budget_elems = std::max<int64_t>(budget_elems, 1);
  const int64_t group_elems = channels_per_group * plane_elems;
  const int64_t sample_elems = groups * group_elems;
  if (sample_elems <= budget_elems)
    return {std::min(batch, budget_elems / sample_elems), groups, channels_per_group};
  if (group_elems <= budget_elems)
    return {1, budget_elems / group_elems, channels_per_group};
  return {1, 1, std::max<int64_t>(1, budget_elems / plane_elems)};
}

// Calls fn(Chunk) for every chunk covering batch x groups x channels_per_group.
template <typename Fn>
void for_each_chunk(const ChunkShape& shape, int64_t batch, int64_t groups,
                    int64_t channels_per_group, Fn&& fn) {
  for (int64_t n0 = 0; n0 < batch; n0 += shape.samples)
    for (int64_t g0 = 0; g0 < groups; g0 += shape.groups)
      for (int64_t c0 = 0; c0 < channels_per_group; c0 += shape.channels)
        fn(Chunk{n0, std::min(shape.samples, batch - n0), g0,
                 std::min(shape.groups, groups - g0), c0,
                 std::min(shape.channels, channels_per_group - c0)});
}

}  // namespace gemm_convt
