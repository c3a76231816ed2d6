#include "settings.h"

#include <ATen/Context.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <atomic>

namespace gemm_convt {
namespace {

std::atomic<int64_t> g_workspace_bytes{kDefaultWorkspaceBytes};
// -1: default (float32-accurate); 0: float32-accurate; 1: TF32.
std::atomic<int> g_allow_tf32{-1};
// -1: by split_tf32_takes (problem.h); 0: never; 1: wherever the columns path runs.
std::atomic<int> g_fp32_split{-1};
std::atomic<bool> g_float_columns{false};
std::atomic<int> g_width_folding{-1};
std::atomic<int> g_disjoint_taps{-1};
std::atomic<int> g_direct_gather{-1};
std::atomic<int> g_implicit_gemm{-1};
std::atomic<bool> g_col2im_blocks{true};
std::atomic<bool> g_gemm_graphs{true};

}  // namespace

void set_workspace_limit(int64_t bytes) {
  TORCH_CHECK(bytes > 0, "gemm_convt: expected workspace_bytes > 0, but got ", bytes);
  g_workspace_bytes = bytes;
}

int64_t workspace_limit() { return g_workspace_bytes; }

void set_allow_tf32(c10::optional<bool> allow) {
  g_allow_tf32 = allow.has_value() ? int(*allow) : -1;
}

c10::optional<bool> allow_tf32_override() {
  const int v = g_allow_tf32;
  return v < 0 ? c10::nullopt : c10::optional<bool>(v == 1);
}

// torch 2.9 added per-operator precision flags (cudnn.conv.fp32_precision);
// once they are used, reading the legacy whole-cuDNN flag raises, so ask for
// the convolution's own flag, as cuDNN's convolution does. 2.9 names the
// operator by string, 2.10 on by enum.
bool torch_conv_allows_tf32() {
#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 10)
  return at::globalContext().allowTF32CuDNN(at::Float32Op::CONV);
#elif TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR == 9
  return at::globalContext().allowTF32CuDNN("conv");
#else
  return at::globalContext().allowTF32CuDNN();
#endif
}

bool allow_tf32() { return g_allow_tf32 == 1; }

void set_fp32_split(int mode) { g_fp32_split = mode; }
int fp32_split() { return g_fp32_split; }
void set_float_columns(bool enabled) { g_float_columns = enabled; }
bool float_columns() { return g_float_columns; }
void set_width_folding(int mode) { g_width_folding = mode; }
int width_folding() { return g_width_folding; }
void set_disjoint_taps(int mode) { g_disjoint_taps = mode; }
int disjoint_taps() { return g_disjoint_taps; }
void set_direct_gather(int mode) { g_direct_gather = mode; }
int direct_gather() { return g_direct_gather; }
void set_implicit_gemm(int mode) { g_implicit_gemm = mode; }
int implicit_gemm() { return g_implicit_gemm; }
void set_col2im_blocks(bool enabled) { g_col2im_blocks = enabled; }
bool col2im_blocks() { return g_col2im_blocks; }
void set_gemm_graphs(bool enabled) { g_gemm_graphs = enabled; }
bool gemm_graphs() { return g_gemm_graphs; }

}  // namespace gemm_convt
