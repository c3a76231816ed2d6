#pragma once

// cuBLAS GEMMs replayed from CUDA graphs. An eager cublasGemmStridedBatchedEx
// costs 24-90 us of host time on the lent H100 hosts (heuristic, attribute
// queries, a memset, the launch), a graph replay of the same GEMM 5-10 us
// (NOTES.md, session 24); chunked calls make a GEMM per chunk, so their host
// time was paced by cuBLAS. A GEMM is captured the second time its exact call
// (pointers, sizes, strides, math, stream) is seen, and replayed after that:
// the same kernel on the same addresses, so the same bits as the eager call.
//
// A captured GEMM runs on a cuBLAS workspace of its own per (device, stream),
// of torch's chosen size (cuBLAS then picks the kernel it picks eagerly), held
// until release_gemm_graphs(): torch may free its own workspaces while graphs
// still point at them. Only our own side streams capture, under their lock
// (side_streams.h); GEMMs on other streams, or on one already capturing (a
// caller's own graph), run eagerly.

#include <cstddef>
#include <cstdint>
#include <functional>

namespace gemm_convt {

// Everything one GEMM call depends on, as integers (pointers and double bits included).
struct GemmCallKey {
  static constexpr int kFields = 24;
  int64_t field[kFields] = {};
  bool operator==(const GemmCallKey& o) const;
};

// One cuBLAS call on torch's current handle and stream. With a workspace
// given, the call sets it on the handle (after torch's handle setup) first.
using GemmEnqueue = std::function<void(void* workspace, size_t bytes)>;

// Runs `enqueue` eagerly (no workspace given), or the graph captured from it;
// `key` names the call, the current device and stream included.
void run_gemm(const GemmCallKey& key, const GemmEnqueue& enqueue);

// Counts since the process started (GEMM calls run eagerly, graphs captured,
// replays, captures that failed, cache entries evicted) and graphs cached now.
struct GemmGraphStats {
  int64_t eager = 0, captured = 0, replayed = 0, failed = 0, evicted = 0, cached = 0;
};
GemmGraphStats gemm_graph_stats();

// Frees every cached graph and capture workspace (enqueued replays still complete).
void release_gemm_graphs();

}  // namespace gemm_convt
