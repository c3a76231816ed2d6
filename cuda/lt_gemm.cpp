#include "lt_gemm.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Exceptions.h>
#include <c10/cuda/CUDAGuard.h>
#include <cublasLt.h>

#include <cstdint>
#include <map>
#include <memory>
#include <mutex>
#include <tuple>
#include <vector>

namespace gemm_convt {
namespace {

// Everything the heuristic's answer depends on.
struct PlanKey {
  int device, in_type, out_type, compute;
  bool ta, tb;
  int64_t m, n, k, lda, ldb, ldc, stride_a, stride_b, stride_c, batch;
  int align_a, align_b, align_c;  // bytes, powers of two up to 256

  auto tie() const {
    return std::tie(device, in_type, out_type, compute, ta, tb, m, n, k, lda, ldb, ldc, stride_a,
                    stride_b, stride_c, batch, align_a, align_b, align_c);
  }
  bool operator<(const PlanKey& o) const { return tie() < o.tie(); }
};

struct Plan {
  cublasLtMatmulDesc_t op = nullptr;
  cublasLtMatrixLayout_t a = nullptr, b = nullptr, c = nullptr;
  cublasLtMatmulAlgo_t algo{};
  bool found = false;

  Plan() = default;
  Plan(const Plan&) = delete;
  Plan& operator=(const Plan&) = delete;
  ~Plan() {
    if (a) cublasLtMatrixLayoutDestroy(a);
    if (b) cublasLtMatrixLayoutDestroy(b);
    if (c) cublasLtMatrixLayoutDestroy(c);
    if (op) cublasLtMatmulDescDestroy(op);
  }
};

constexpr size_t kMaxPlans = 4096;  // beyond this, plans are made per call

int alignment(const void* ptr) {
  const auto addr = reinterpret_cast<uintptr_t>(ptr);
  int bytes = 256;
  while (bytes > 1 && addr % bytes) bytes /= 2;
  return bytes;
}

cublasLtHandle_t handle_for(int device) {
  // One handle per device, made on first use and kept for the process (as
  // torch keeps its own handles).
  static std::mutex mutex;
  static auto* handles = new std::vector<cublasLtHandle_t>();
  std::lock_guard<std::mutex> lock(mutex);
  if (handles->size() <= size_t(device)) handles->resize(device + 1, nullptr);
  if (!(*handles)[device]) {
    c10::cuda::CUDAGuard guard(static_cast<c10::DeviceIndex>(device));
    TORCH_CUDABLAS_CHECK(cublasLtCreate(&(*handles)[device]));
  }
  return (*handles)[device];
}

template <typename T>
void set_desc(cublasLtMatmulDesc_t desc, cublasLtMatmulDescAttributes_t attr, T value) {
  TORCH_CUDABLAS_CHECK(cublasLtMatmulDescSetAttribute(desc, attr, &value, sizeof(value)));
}

template <typename T>
void set_layout(cublasLtMatrixLayout_t layout, cublasLtMatrixLayoutAttribute_t attr, T value) {
  TORCH_CUDABLAS_CHECK(cublasLtMatrixLayoutSetAttribute(layout, attr, &value, sizeof(value)));
}

cublasLtMatrixLayout_t make_layout(cudaDataType_t type, int64_t rows, int64_t cols, int64_t ld,
                                   int64_t batch, int64_t stride) {
  cublasLtMatrixLayout_t layout = nullptr;
  TORCH_CUDABLAS_CHECK(cublasLtMatrixLayoutCreate(&layout, type, uint64_t(rows), uint64_t(cols), ld));
  if (batch > 1) {
    set_layout(layout, CUBLASLT_MATRIX_LAYOUT_BATCH_COUNT, int32_t(batch));
    set_layout(layout, CUBLASLT_MATRIX_LAYOUT_STRIDED_BATCH_OFFSET, int64_t(stride));
  }
  return layout;
}

std::unique_ptr<Plan> make_plan(cublasLtHandle_t handle, const PlanKey& key) {
  auto plan = std::make_unique<Plan>();
  const auto in = cudaDataType_t(key.in_type), out = cudaDataType_t(key.out_type);
  TORCH_CUDABLAS_CHECK(
      cublasLtMatmulDescCreate(&plan->op, cublasComputeType_t(key.compute), CUDA_R_32F));
  set_desc(plan->op, CUBLASLT_MATMUL_DESC_TRANSA, int32_t(key.ta ? CUBLAS_OP_T : CUBLAS_OP_N));
  set_desc(plan->op, CUBLASLT_MATMUL_DESC_TRANSB, int32_t(key.tb ? CUBLAS_OP_T : CUBLAS_OP_N));
  plan->a = make_layout(in, key.ta ? key.k : key.m, key.ta ? key.m : key.k, key.lda, key.batch,
                        key.stride_a);
  plan->b = make_layout(in, key.tb ? key.n : key.k, key.tb ? key.k : key.n, key.ldb, key.batch,
                        key.stride_b);
  plan->c = make_layout(out, key.m, key.n, key.ldc, key.batch, key.stride_c);

  cublasLtMatmulPreference_t pref = nullptr;
  TORCH_CUDABLAS_CHECK(cublasLtMatmulPreferenceCreate(&pref));
  // No workspace: no split-K (deterministic), nothing to zero per call.
  const uint64_t workspace = 0;
  const uint32_t align_a = key.align_a, align_b = key.align_b, align_c = key.align_c;
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MAX_WORKSPACE_BYTES, &workspace,
                                       sizeof(workspace));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_A_BYTES, &align_a,
                                       sizeof(align_a));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_B_BYTES, &align_b,
                                       sizeof(align_b));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_C_BYTES, &align_c,
                                       sizeof(align_c));
  cublasLtMatmulPreferenceSetAttribute(pref, CUBLASLT_MATMUL_PREF_MIN_ALIGNMENT_D_BYTES, &align_c,
                                       sizeof(align_c));
  cublasLtMatmulHeuristicResult_t result{};
  int found = 0;
  const cublasStatus_t status = cublasLtMatmulAlgoGetHeuristic(
      handle, plan->op, plan->a, plan->b, plan->c, plan->c, pref, 1, &result, &found);
  cublasLtMatmulPreferenceDestroy(pref);
  plan->found = status == CUBLAS_STATUS_SUCCESS && found > 0 &&
                result.state == CUBLAS_STATUS_SUCCESS && result.workspaceSize == 0;
  if (plan->found) plan->algo = result.algo;
  return plan;
}

}  // namespace

bool lt_gemm_strided_batched(at::ScalarType in_dtype, at::ScalarType out_dtype, int64_t m,
                             int64_t n, int64_t k, const MatrixRef& a, const MatrixRef& b,
                             void* c, int64_t ldc, int64_t c_batch_stride, int64_t batch,
                             bool allow_tf32) {
  const auto admitted = [](at::ScalarType t) {
    return t == at::kFloat || t == at::kHalf || t == at::kBFloat16;
  };
  if (!admitted(in_dtype) || !admitted(out_dtype) || m <= 0 || n <= 0 || k <= 0 || batch <= 0)
    return false;
  const bool tf32 = allow_tf32 && in_dtype == at::kFloat;
  PlanKey key;
  key.device = at::cuda::current_device();
  key.in_type = int(cuda_dtype(in_dtype));
  key.out_type = int(cuda_dtype(out_dtype));
  key.compute = int(tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
  key.ta = a.transposed;
  key.tb = b.transposed;
  key.m = m, key.n = n, key.k = k, key.lda = a.ld, key.ldb = b.ld, key.ldc = ldc;
  key.batch = batch;
  key.stride_a = batch > 1 ? a.batch_stride : 0;
  key.stride_b = batch > 1 ? b.batch_stride : 0;
  key.stride_c = batch > 1 ? c_batch_stride : 0;
  key.align_a = alignment(a.ptr);
  key.align_b = alignment(b.ptr);
  key.align_c = alignment(c);

  static std::mutex mutex;
  static auto* plans = new std::map<PlanKey, std::shared_ptr<Plan>>();
  std::shared_ptr<Plan> plan;
  {
    std::lock_guard<std::mutex> lock(mutex);
    const auto it = plans->find(key);
    if (it != plans->end()) plan = it->second;
  }
  const cublasLtHandle_t handle = handle_for(key.device);
  if (!plan) {
    plan = make_plan(handle, key);
    std::lock_guard<std::mutex> lock(mutex);
    if (plans->size() < kMaxPlans) plans->emplace(key, plan);
  }
  if (!plan->found) return false;
  const float alpha = 1.0f, beta = 0.0f;
  const cublasStatus_t status =
      cublasLtMatmul(handle, plan->op, &alpha, a.ptr, plan->a, b.ptr, plan->b, &beta, c, plan->c,
                     c, plan->c, &plan->algo, nullptr, 0, at::cuda::getCurrentCUDAStream());
  // A call the plan turns out not to support launches nothing: cuBLAS takes it.
  if (status == CUBLAS_STATUS_NOT_SUPPORTED || status == CUBLAS_STATUS_INVALID_VALUE) return false;
  TORCH_CUDABLAS_CHECK(status);
  return true;
}

}  // namespace gemm_convt
