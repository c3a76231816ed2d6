#pragma once

// The forward's and the backward's chunk loops replayed as CUDA graphs where
// they are host-bound: each chunk costs a pack launch, a cuBLAS call (heuristic, memset, launch)
// and a col2im launch, ~20 us of host apiece, and dcgan's ~22 launches took
// longer on the host than on the GPU (NOTES.md, sessions 12 and 16).
//
// Opt-in (set_chunk_graphs(True)): on the H100 it took host time off the
// training step but not enough of its time (NOTES.md, session 16).
//
// A loop qualifies when every cuBLAS operand lives in the workspace (the
// input packed per chunk, the weight copied in): then the only pointers that
// change between calls are our own kernels' (the input the pack reads, the
// bias and output col2im uses), and a replay rebases them node by node. The
// workspace is one buffer per device held between calls (the cap, at most
// 64 MiB); cuBLAS gets its share of it through our own handle, in eager calls
// of such a loop too, so a replay computes bitwise what the eager loop computes.

#include <ATen/ATen.h>
#include <cublas_v2.h>

#include <cstdint>
#include <functional>
#include <initializer_list>
#include <vector>

namespace gemm_convt {

// cuBLAS's workspace per stream in a loop that may be captured.
constexpr int64_t kLoopBlasWorkspaceBytes = int64_t(4) << 20;

// Whether chunk loops that qualify keep their operands in the workspace and
// replay as graphs: set_chunk_graphs(True) (opt-in: NOTES.md, session 16).
bool chunk_graphs_on();

// Called by our launch wrappers right after a launch on the current stream:
// while a loop is captured, records the kernel node, its argument count and
// which arguments are device pointers (to rebase per replay). Otherwise a
// thread-local test and nothing more.
void note_captured_launch(int arg_count, std::initializer_list<int> pointer_args);

// While alive (this thread), gemm_strided_batched runs on our own cuBLAS
// handle with this workspace instead of torch's handle and workspace (torch
// frees its workspaces when asked, e.g. by torch.compile's CUDA graphs).
class LoopBlasWorkspace {
 public:
  LoopBlasWorkspace(void* ptr, int64_t bytes);
  ~LoopBlasWorkspace();
  LoopBlasWorkspace(const LoopBlasWorkspace&) = delete;
  LoopBlasWorkspace& operator=(const LoopBlasWorkspace&) = delete;

 private:
  void* saved_ptr_;
  int64_t saved_bytes_;
};

// The handle gemm_strided_batched uses: ours, on the current stream with the
// loop's workspace, inside a LoopBlasWorkspace scope; torch's otherwise.
cublasHandle_t gemm_handle();

// Memory a loop reads or writes that belongs to the caller (rebased per call).
struct UserRegion {
  const void* base = nullptr;
  int64_t bytes = 0;
};
UserRegion region_of(const at::Tensor& t);  // empty when undefined or empty

// Runs `prologue` (eagerly, on the current stream), `loop`, and `epilogue`
// (eagerly; may be empty) on a byte workspace of `bytes`, replaying the loop
// from a graph captured on an earlier call with the same key. False when it
// ran nothing: graphs off, a first call, a stream under capture, overlapping
// regions, a loop that could not be captured (the caller then runs all three
// itself).
using WorkspaceStep = std::function<void(const at::Tensor&)>;
bool run_chunk_loop_graphed(const std::vector<int64_t>& key, int64_t bytes,
                            const std::vector<UserRegion>& regions, const WorkspaceStep& prologue,
                            const WorkspaceStep& loop, const WorkspaceStep& epilogue = {});

// Frees every device's graphs and held workspace (waits for their replays).
void release_chunk_graphs();

// Loops captured and replays launched so far in this process (tests, probes).
std::vector<int64_t> chunk_graph_counts();

}  // namespace gemm_convt
