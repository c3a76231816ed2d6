#include "gemm_graphs.h"

#include <ATen/cuda/CUDAContext.h>
#include <c10/cuda/CUDACachingAllocator.h>
#include <c10/cuda/CUDAException.h>
#include <c10/cuda/CUDAFunctions.h>
#include <torch/version.h>

#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <map>
#include <mutex>
#include <unordered_map>
#include <utility>

#include "../csrc/settings.h"
#include "side_streams.h"

namespace gemm_convt {

bool GemmCallKey::operator==(const GemmCallKey& o) const {
  return std::equal(field, field + kFields, o.field);
}

namespace {

// at::cuda::getChosenWorkspaceSize (the size torch gives cuBLAS) is declared
// by the torch versions this was built and run with (2.11, 2.14); older torch,
// where it may be missing, runs every GEMM eagerly.
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
  GemmGraphStats stats;
};

// Leaked: destructors at exit would call into a CUDA runtime already torn down.
Cache& cache() {
  static Cache* c = new Cache;
  return *c;
}

// Calls whose pointers change every time never repeat: bound the map. Full,
// it forgets the calls seen once, then (still three quarters full) every graph.
constexpr size_t kMaxEntries = 1024;

void destroy_entries(Cache& c, bool captured_too) {
  for (auto it = c.entries.begin(); it != c.entries.end();) {
    if (it->second.exec != nullptr && !captured_too) {
      ++it;
      continue;
    }
    if (it->second.exec) cudaGraphExecDestroy(it->second.exec);  // in-flight replays complete
    ++c.stats.evicted;
    it = c.entries.erase(it);
  }
}

void make_room(Cache& c) {
  destroy_entries(c, false);
  if (c.entries.size() >= kMaxEntries * 3 / 4) destroy_entries(c, true);
}

// Why captures fail, on stderr, when GEMM_CONVT_GEMM_GRAPHS_DEBUG is set.
void debug(const char* step, cudaError_t err) {
  static const bool on = std::getenv("GEMM_CONVT_GEMM_GRAPHS_DEBUG") != nullptr;
  if (on) std::fprintf(stderr, "gemm_convt: GEMM graph capture: %s: %s\n", step, cudaGetErrorString(err));
}

// Whether a capture may begin on `stream`, one of our side streams (never a
// default stream: side_stream_held is checked first): not while the caller is
// capturing a graph of its own there.
bool capturable(cudaStream_t stream) {
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
  cudaError_t err = cudaStreamBeginCapture(stream, cudaStreamCaptureModeThreadLocal);
  if (err != cudaSuccess) {
    debug("begin", err);
    (void)cudaGetLastError();
    return nullptr;
  }
  bool enqueued = true;
  try {
    enqueue(workspace, bytes);
  } catch (const std::exception& e) {
    enqueued = false;
    debug(e.what(), cudaSuccess);
  }
  cudaGraph_t graph = nullptr;
  err = cudaStreamEndCapture(stream, &graph);
  if (err != cudaSuccess) debug("end", err);
  at::cuda::getCurrentCUDABlasHandle();  // puts torch's own workspace back on the handle
  cudaGraphExec_t exec = nullptr;
  if (enqueued && err == cudaSuccess && graph != nullptr) {
    err = cudaGraphInstantiateWithFlags(&exec, graph, 0);
    if (err != cudaSuccess) {
      debug("instantiate", err);
      exec = nullptr;
    }
  }
  if (graph != nullptr) cudaGraphDestroy(graph);
  (void)cudaGetLastError();  // a failed capture's error is not sticky
  return exec;
}

}  // namespace

void run_gemm(const GemmCallKey& key, const GemmEnqueue& enqueue) {
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream();
  if (!kGraphsBuilt || !gemm_graphs() || !side_stream_held(stream) || !capturable(stream))
    return enqueue(nullptr, 0);
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  if (c.entries.size() >= kMaxEntries && c.entries.find(key) == c.entries.end()) make_room(c);
  Entry& e = c.entries[key];
  if (e.exec == nullptr) {
    // The first run eager: it also loads the kernel's module, which a capture must not.
    if (e.eager_only || e.seen++ == 0) {
      ++c.stats.eager;
      return enqueue(nullptr, 0);
    }
    const size_t bytes = capture_workspace_bytes();
    e.exec = capture(stream, capture_workspace(c, int(c10::cuda::current_device()), stream, bytes),
                     bytes, enqueue);
    if (e.exec == nullptr) {
      e.eager_only = true;
      ++c.stats.failed;
      ++c.stats.eager;
      return enqueue(nullptr, 0);
    }
    ++c.stats.captured;
  }
  ++c.stats.replayed;
  C10_CUDA_CHECK(cudaGraphLaunch(e.exec, stream));
}

GemmGraphStats gemm_graph_stats() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  GemmGraphStats s = c.stats;
  s.cached = std::count_if(c.entries.begin(), c.entries.end(),
                           [](const auto& kv) { return kv.second.exec != nullptr; });
  return s;
}

void release_gemm_graphs() {
  Cache& c = cache();
  std::lock_guard<std::mutex> lock(c.mutex);
  destroy_entries(c, true);
  c.workspaces.clear();
}

}  // namespace gemm_convt
