#include "chunk_graphs.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Exceptions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cuda_runtime.h>

#include <list>
#include <map>
#include <mutex>

#include "../csrc/settings.h"
#include "side_streams.h"

namespace gemm_convt {
namespace {

// ---- capture-time records -------------------------------------------------

struct NotedLaunch {
  cudaGraphNode_t node;
  int arg_count;
  std::vector<int> pointer_args;
};

struct Recorder {
  std::vector<NotedLaunch> launches;
  bool failed = false;
};

thread_local Recorder* t_recorder = nullptr;
thread_local void* t_blas_ptr = nullptr;
thread_local int64_t t_blas_bytes = 0;

// The node a launch just added to the current stream's capture: the stream's
// only dependency afterwards.
cudaGraphNode_t last_captured_node(cudaStream_t stream) {
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  const cudaGraphNode_t* deps = nullptr;
  size_t count = 0;
#if CUDART_VERSION >= 13000
  if (cudaStreamGetCaptureInfo(stream, &status, nullptr, nullptr, &deps, nullptr, &count) !=
      cudaSuccess)
    return nullptr;
#else
  if (cudaStreamGetCaptureInfo_v2(stream, &status, nullptr, nullptr, &deps, &count) != cudaSuccess)
    return nullptr;
#endif
  return status == cudaStreamCaptureStatusActive && count == 1 ? deps[0] : nullptr;
}

// ---- one captured loop ----------------------------------------------------

// A kernel node whose pointer arguments are rebased per replay: its params
// point into the graph's own copies of the arguments, except for the rebased
// ones, which point into `Entry::values`.
struct RebasedNode {
  cudaGraphNode_t node;
  cudaKernelNodeParams params;
  std::vector<void*> args;
};

struct Rebase {
  int region;
  int64_t offset;
};

struct Entry {
  int64_t calls = 0;
  bool unusable = false;
  cudaGraph_t graph = nullptr;
  cudaGraphExec_t exec = nullptr;
  std::vector<RebasedNode> nodes;
  std::vector<Rebase> rebases;  // one per value
  std::vector<void*> values;    // sized once: nodes' args point at its elements
  std::list<std::vector<int64_t>>::iterator lru;

  void destroy() {
    if (exec) cudaGraphExecDestroy(exec);
    if (graph) cudaGraphDestroy(graph);
    exec = nullptr;
    graph = nullptr;
    nodes.clear();
    rebases.clear();
    values.clear();
  }
};

struct DeviceGraphs {
  at::Tensor workspace;  // bytes, held between calls
  cudaEvent_t last_replay = nullptr;
  bool replayed = false;
  std::map<std::vector<int64_t>, Entry> entries;
  std::list<std::vector<int64_t>> lru;  // most recent first

  void wait_replays() {
    if (replayed) AT_CUDA_CHECK(cudaEventSynchronize(last_replay));
  }
  // forget: the loops' call counts too; else a loop seen before is captured
  // again on its next call.
  void drop_graphs(bool forget) {
    wait_replays();
    for (auto& kv : entries) kv.second.destroy();
    if (forget) {
      entries.clear();
      lru.clear();
    }
  }
};

constexpr size_t kMaxGraphsPerDevice = 32;
int64_t g_captures = 0, g_replays = 0;  // under g_mutex

std::mutex g_mutex;
// Leaked: graphs must not be destroyed after the CUDA context at exit.
std::map<int, DeviceGraphs>& all_devices() {
  static auto* devices = new std::map<int, DeviceGraphs>;
  return *devices;
}

bool overlap(const UserRegion& a, const UserRegion& b) {
  const auto a0 = reinterpret_cast<uintptr_t>(a.base), b0 = reinterpret_cast<uintptr_t>(b.base);
  return a.bytes && b.bytes && a0 < b0 + b.bytes && b0 < a0 + a.bytes;
}

int region_holding(const std::vector<UserRegion>& regions, const void* ptr) {
  const auto p = reinterpret_cast<uintptr_t>(ptr);
  for (size_t r = 0; r < regions.size(); ++r) {
    const auto base = reinterpret_cast<uintptr_t>(regions[r].base);
    if (regions[r].bytes && p >= base && p < base + regions[r].bytes) return int(r);
  }
  return -1;
}

// Turns the recorded launches into rebased nodes; false if a pointer argument
// points neither into the workspace nor into a user region.
bool collect_rebases(const Recorder& rec, const DeviceGraphs& d,
                     const std::vector<UserRegion>& regions, Entry& e) {
  const std::vector<UserRegion> held{region_of(d.workspace)};
  struct Slot {
    size_t node;
    int arg;
  };
  std::vector<Slot> slots;  // one per rebased value
  for (const NotedLaunch& n : rec.launches) {
    cudaKernelNodeParams kp{};
    if (cudaGraphKernelNodeGetParams(n.node, &kp) != cudaSuccess || kp.extra) return false;
    RebasedNode rn{n.node, kp, std::vector<void*>(kp.kernelParams, kp.kernelParams + n.arg_count)};
    bool rebased = false;
    for (int arg : n.pointer_args) {
      const void* value = *static_cast<void* const*>(kp.kernelParams[arg]);
      if (!value || region_holding(held, value) == 0) continue;
      const int r = region_holding(regions, value);
      if (r < 0) return false;
      e.rebases.push_back(
          {r, static_cast<const char*>(value) - static_cast<const char*>(regions[r].base)});
      slots.push_back({e.nodes.size(), arg});
      rebased = true;
    }
    if (rebased) e.nodes.push_back(std::move(rn));
  }
  e.values.assign(e.rebases.size(), nullptr);
  for (size_t v = 0; v < slots.size(); ++v) e.nodes[slots[v].node].args[slots[v].arg] = &e.values[v];
  return true;
}

// Captures `loop` on the workspace; false (nothing kept) where it cannot be
// captured or replayed with rebased pointers.
bool capture(DeviceGraphs& d, Entry& e, const std::vector<UserRegion>& regions,
             const WorkspaceStep& loop) {
  // A stream of our own: the caller's may be the legacy default stream,
  // which cannot capture. Nothing runs on it.
  const c10::cuda::CUDAStream origin = side_streams(3)[2];
  c10::cuda::CUDAStreamGuard on_origin(origin);
  Recorder rec;
  cudaGraph_t graph = nullptr;
  AT_CUDA_CHECK(cudaStreamBeginCapture(origin.stream(), cudaStreamCaptureModeRelaxed));
  t_recorder = &rec;
  try {
    loop(d.workspace);
  } catch (...) {
    rec.failed = true;
  }
  t_recorder = nullptr;
  const cudaError_t ended = cudaStreamEndCapture(origin.stream(), &graph);
  if (ended != cudaSuccess || rec.failed || !graph) {
    if (graph) cudaGraphDestroy(graph);
    (void)cudaGetLastError();  // the eager run reports any real error
    return false;
  }
  e.graph = graph;
  if (!collect_rebases(rec, d, regions, e) ||
      cudaGraphInstantiateWithFlags(&e.exec, graph, 0) != cudaSuccess) {
    e.exec = nullptr;
    e.destroy();
    (void)cudaGetLastError();
    return false;
  }
  return true;
}

Entry& entry_for(DeviceGraphs& d, const std::vector<int64_t>& key) {
  auto it = d.entries.find(key);
  if (it != d.entries.end()) {
    d.lru.splice(d.lru.begin(), d.lru, it->second.lru);
    return it->second;
  }
  if (d.entries.size() >= kMaxGraphsPerDevice) {
    d.wait_replays();
    auto& oldest = d.entries.at(d.lru.back());
    oldest.destroy();
    d.entries.erase(d.lru.back());
    d.lru.pop_back();
  }
  d.lru.push_front(key);
  Entry& e = d.entries[key];
  e.lru = d.lru.begin();
  return e;
}

}  // namespace

bool chunk_graphs_on() { return chunk_graphs() == 1; }

void note_captured_launch(int arg_count, std::initializer_list<int> pointer_args) {
  if (!t_recorder) return;
  const cudaGraphNode_t node = last_captured_node(at::cuda::getCurrentCUDAStream().stream());
  if (!node) {
    t_recorder->failed = true;
    return;
  }
  t_recorder->launches.push_back({node, arg_count, std::vector<int>(pointer_args)});
}

LoopBlasWorkspace::LoopBlasWorkspace(void* ptr, int64_t bytes)
    : saved_ptr_(t_blas_ptr), saved_bytes_(t_blas_bytes) {
  t_blas_ptr = ptr;
  t_blas_bytes = bytes;
}

LoopBlasWorkspace::~LoopBlasWorkspace() {
  t_blas_ptr = saved_ptr_;
  t_blas_bytes = saved_bytes_;
}

cublasHandle_t gemm_handle() {
  if (!t_blas_ptr) return at::cuda::getCurrentCUDABlasHandle();
  // One handle per device and thread (cuBLAS handles are not shared across
  // threads), kept for the process as torch keeps its own.
  thread_local std::map<int, cublasHandle_t> handles;
  const int device = c10::cuda::current_device();
  cublasHandle_t& handle = handles[device];
  if (!handle) TORCH_CUDABLAS_CHECK(cublasCreate(&handle));
  TORCH_CUDABLAS_CHECK(cublasSetStream(handle, at::cuda::getCurrentCUDAStream().stream()));
  TORCH_CUDABLAS_CHECK(cublasSetWorkspace(handle, t_blas_ptr, size_t(t_blas_bytes)));
  return handle;
}

UserRegion region_of(const at::Tensor& t) {
  if (!t.defined() || t.numel() == 0) return {};
  int64_t last = 0;  // offset of the last element
  for (int64_t d = 0; d < t.dim(); ++d) last += (t.size(d) - 1) * t.stride(d);
  return {t.data_ptr(), (last + 1) * int64_t(t.element_size())};
}

bool run_chunk_loop_graphed(const std::vector<int64_t>& key, int64_t bytes,
                            const std::vector<UserRegion>& regions, const WorkspaceStep& prologue,
                            const WorkspaceStep& loop, const WorkspaceStep& epilogue) {
  if (!chunk_graphs_on() || bytes > kDefaultWorkspaceBytes) return false;
  const cudaStream_t stream = at::cuda::getCurrentCUDAStream().stream();
  cudaStreamCaptureStatus status = cudaStreamCaptureStatusNone;
  AT_CUDA_CHECK(cudaStreamIsCapturing(stream, &status));
  if (status != cudaStreamCaptureStatusNone) return false;  // inside the caller's own graph
  for (size_t a = 0; a < regions.size(); ++a)
    for (size_t b = a + 1; b < regions.size(); ++b)
      if (overlap(regions[a], regions[b])) return false;

  std::lock_guard<std::mutex> lock(g_mutex);
  DeviceGraphs& d = all_devices()[c10::cuda::current_device()];
  std::vector<int64_t> full_key = key;
  full_key.push_back(bytes);
  Entry* const e = &entry_for(d, full_key);
  if (e->unusable) return false;
  if (!e->exec) {
    // From a loop's second call on, so one-off problems never pay a capture.
    if (++e->calls < 2) return false;
    if (!d.workspace.defined() || d.workspace.numel() < bytes) {
      d.drop_graphs(false);  // they read the old buffer
      d.workspace = at::Tensor();
      // The cap at least (plus the loops' alignment slack), so that a layer's
      // forward and backward loops share one buffer without regrowing.
      const int64_t held =
          std::max(bytes, std::min(workspace_limit(), kDefaultWorkspaceBytes) + 4096);
      d.workspace = at::empty({held}, at::TensorOptions().dtype(at::kByte).device(at::kCUDA));
    }
    if (!capture(d, *e, regions, loop)) {
      e->unusable = true;
      return false;
    }
    ++g_captures;
    if (!d.last_replay)
      AT_CUDA_CHECK(cudaEventCreateWithFlags(&d.last_replay, cudaEventDisableTiming));
  }

  for (size_t v = 0; v < e->rebases.size(); ++v)
    e->values[v] = const_cast<char*>(static_cast<const char*>(regions[e->rebases[v].region].base)) +
                   e->rebases[v].offset;
  for (RebasedNode& rn : e->nodes) {
    cudaKernelNodeParams params = rn.params;
    params.kernelParams = rn.args.data();
    AT_CUDA_CHECK(cudaGraphExecKernelNodeSetParams(e->exec, rn.node, &params));
  }
  // One replay at a time per device: they share the workspace.
  if (d.replayed) AT_CUDA_CHECK(cudaStreamWaitEvent(stream, d.last_replay, 0));
  prologue(d.workspace);
  AT_CUDA_CHECK(cudaGraphLaunch(e->exec, stream));
  if (epilogue) epilogue(d.workspace);
  AT_CUDA_CHECK(cudaEventRecord(d.last_replay, stream));
  d.replayed = true;
  ++g_replays;
  return true;
}

void release_chunk_graphs() {
  std::lock_guard<std::mutex> lock(g_mutex);
  for (auto& kv : all_devices()) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(kv.first));
    kv.second.drop_graphs(true);
    kv.second.workspace = at::Tensor();
  }
}

std::vector<int64_t> chunk_graph_counts() {
  std::lock_guard<std::mutex> lock(g_mutex);
  return {g_captures, g_replays};
}

}  // namespace gemm_convt
