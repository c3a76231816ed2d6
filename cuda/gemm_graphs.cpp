#include "gemm_graphs.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <torch/version.h>

#include <algorithm>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "../csrc/settings.h"

namespace gemm_convt {

bool GemmCallKey::operator==(const GemmCallKey& o) const {
  return std::equal(field, field + kFields, o.field);
}

namespace {

// at::cuda::getChosenWorkspaceSize (the size torch gives cuBLAS) is public
// from torch 2.x; older torch runs every GEMM eagerly.
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 6)
constexpr bool kGraphsBuilt = true;
size_t capture_workspace_bytes() { return at::cuda::getChosenWorkspaceSize(); }
#else
constexpr bool kGraphsBuilt = false;
size_t capture_workspace_bytes() { return 0; }
#endif

struct KeyHash {
  size_t operator()(const GemmCallKey& k) const {
    uint64_t h = 1469598103934665603ull;  // FNV-1a over the fields
    for (int64_t v : k.field) h = (h ^ uint64_t(v)) * 1099511628211ull;
    return size_t(h);
  }
};

struct Entry {
  int seen = 0;                    // eager runs so far
  cudaGraphExec_t exec = nullptr;  // once captured
  bool eager_only = false;         // capture failed: stay eager
};

struct Cache {
  std::mutex mutex;
  std::unordered_map<GemmCallKey, Entry, KeyHash> entries;
  std::map<std::pair<int, cudaStream_t>, at::DataPtr> workspaces;
};

// Leaked: destructors at exit would call into a CUDA runtime already torn down.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

// Calls whose pointers change every time never repeat: bound the map.
constexpr size_t kMaxEntries = 1024;

void destroy_entries(Cache& c) {
  for (auto& kv : c.entries)
    if (kv.second.exec) cudaGraphExecDestroy(kv.second.exec);  // in-flight replays complete
  c.entries.clear();
}

bool capturable(cudaStream_t stream) {
  if (stream == nullptr || stream == cudaStreamLegacy || stream == cudaStreamPerThread) return false;
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  if (cudaStreamIsCapturing(stream, &status) != cudaSuccess) {
    (void)cudaGetLastError();
    return false;
  }
  return status == cudaStreamCaptureStatusNone;
}

// The stream's capture workspace, allocated on it (the current stream), so the
// caching allocator orders its reuse after the stream's replays.
void* capture_workspace(Cache& c, int device, cudaStream_t stream, size_t bytes) {
  at::DataPtr& ws = c.workspaces[{device, stream}];
  if (!ws) ws = c10::cuda::CUDACachingAllocator::get()->allocate(bytes);
  return ws.get();
}

// The graph of enqueue's GEMM on the capture workspace; nullptr where the
// capture or instantiation failed (nothing ran then).
cudaGraphExec_t capture(cudaStream_t stream, void* workspace, size_t bytes,
                        const GemmEnqueue& enqueue) {
  // torch makes the handle's workspace for this stream on first use: before the
  // capture, where allocating is allowed.
  at::cuda::getCurrentCUDABlasHandle();
  if (cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal) != cudaSuccess) {
    (void)cudaGetLastError();
    return nullptr;
  }
  bool enqueued = true;
  try {
    enqueue(workspace, bytes);
  } catch (...) {
    enqueued = false;
  }
  cudaGraph_t graph = nullptr;
  const bool ended = cudaStreamEndCapture(stream, &graph) == cudaSuccess;
  at::cuda::getCurrentCUDABlasHandle();  // puts torch's own workspace back on the handle
  cudaGraphExec_t exec = nullptr;
  if (!enqueued || !ended || graph == nullptr ||
      cudaGraphInstantiateWithFlags(&exec, graph, 0) != cudaSuccess)
    exec = nullptr;
  if (graph != nullptr) cudaGraphDestroy(graph);
  (void)cudaGetLastError();  // a failed capture's error is not sticky
  return exec;
}

}  // namespace

void run_gemm(const GemmCallKey& key, const GemmEnqueue& enqueue) {
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  if (!kGraphsBuilt || !gemm_graphs() || !capturable(stream)) return enqueue(nullptr, 0);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.entries.size() >= kMaxEntries && c.entries.find(key) == c.entries.end()) destroy_entries(c);
  Entry& e = c.entries[key];
  if (e.exec == nullptr) {
    // The first run eager: it also loads the kernel's module, which a capture must not.
    if (e.eager_only || e.seen++ == 0) return enqueue(nullptr, 0);
    const size_t bytes = capture_workspace_bytes();
    e.exec = capture(stream, capture_workspace(c, int(c10::cuda::current_device()), stream, bytes),
                     bytes, enqueue);
    if (e.exec == nullptr) {
      e.eager_only = true;
      return enqueue(nullptr, 0);
    }
  }
  C10_CUDA_CHECK(cudaGraphLaunch(e.exec, stream));
}

int64_t gemm_graphs_cached() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  return std::count_if(c.entries.begin(), c.entries.end(),
                       [](const auto& kv) { return kv.second.exec != nullptr; });
}

void release_gemm_graphs() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  destroy_entries(c);
  c.workspaces.clear();
}

}  // namespace gemm_convt
