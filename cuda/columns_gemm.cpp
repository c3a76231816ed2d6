#include "columns_gemm.h"

#include <ATen/cuda/CUDAContext.h>
#include <ATen/cuda/Exceptions.h>
#include <c10/cuda/CUDAFunctions.h>

#include <algorithm>
#include <cstring>
#include <iterator>
#include <limits>

#include "gemm_graphs.h"
#include "lt_gemm.h"
#include "pack.cuh"

namespace gemm_convt {

cudaDataType_t cuda_dtype(at::ScalarType t) {
  switch (t) {
    case at::kFloat: return CUDA_R_32F;
    case at::kDouble: return CUDA_R_64F;
    case at::kHalf: return CUDA_R_16F;
    case at::kBFloat16: return CUDA_R_16BF;
    default: TORCH_CHECK(false, "gemm_convt: expected float32, float64, float16 or bfloat16, but got ", t);
  }
}

namespace {

int as_int(int64_t v, const char* what) {
  TORCH_CHECK(v >= 0 && v <= std::numeric_limits<int>::max(), "gemm_convt: ", what, " = ", v,
              " exceeds the 32-bit range cuBLAS accepts");
  return static_cast<int>(v);
}

// Restores the handle's math mode: torch sets it from its matmul TF32 flag,
// and our convolution follows the cuDNN flag instead.
struct MathModeGuard {
  cublasHandle_t handle;
  cublasMath_t saved;
  MathModeGuard(cublasHandle_t h, cublasMath_t mode) : handle(h) {
    TORCH_CUDABLAS_CHECK(cublasGetMathMode(handle, &saved));
    TORCH_CUDABLAS_CHECK(cublasSetMathMode(handle, mode));
  }
  ~MathModeGuard() { cublasSetMathMode(handle, saved); }
};

}  // namespace

void gemm_strided_batched(at::ScalarType in_dtype, at::ScalarType out_dtype, int64_t m,
                          int64_t n, int64_t k, const MatrixRef& a, const MatrixRef& b,
                          void* c, int64_t ldc, int64_t c_batch_stride, double beta,
                          int64_t batch, bool allow_tf32) {
  const bool is_double = in_dtype == at::kDouble;
  const bool tf32 = allow_tf32 && in_dtype == at::kFloat;
  const cublasComputeType_t compute =
      is_double ? CUBLAS_COMPUTE_64F : (tf32 ? CUBLAS_COMPUTE_32F_FAST_TF32 : CUBLAS_COMPUTE_32F);
  int64_t beta_bits = 0;
  std::memcpy(&beta_bits, &beta, sizeof(beta));
  GemmCallKey key;
  const int64_t fields[] = {int64_t(c10::cuda::current_device()),
                            reinterpret_cast<int64_t>(at::cuda::getCurrentCUDAStream().stream()),
                            int64_t(in_dtype), int64_t(out_dtype), int64_t(compute), m, n, k,
                            reinterpret_cast<int64_t>(a.ptr), a.ld, a.transposed, a.batch_stride,
                            reinterpret_cast<int64_t>(b.ptr), b.ld, b.transposed, b.batch_stride,
                            reinterpret_cast<int64_t>(c), ldc, c_batch_stride,
                            beta_bits, batch};
  static_assert(sizeof(fields) / sizeof(fields[0]) <= GemmCallKey::kFields, "GemmCallKey too small");
  std::copy(std::begin(fields), std::end(fields), key.field);
  run_gemm(key, [&](void* workspace, size_t workspace_bytes) {
    cublasHandle_t handle = at::cuda::getCurrentCUDABlasHandle();
    if (workspace != nullptr)
      TORCH_CUDABLAS_CHECK(cublasSetWorkspace(handle, workspace, workspace_bytes));
    MathModeGuard math(handle, tf32 ? CUBLAS_TF32_TENSOR_OP_MATH : CUBLAS_DEFAULT_MATH);
    const double alpha_d = 1.0, beta_d = beta;
    const float alpha_f = 1.0f, beta_f = static_cast<float>(beta);
    const void* alpha = is_double ? static_cast<const void*>(&alpha_d) : &alpha_f;
    const void* beta_p = is_double ? static_cast<const void*>(&beta_d) : &beta_f;
    TORCH_CUDABLAS_CHECK(cublasGemmStridedBatchedEx(
        handle, a.transposed ? CUBLAS_OP_T : CUBLAS_OP_N, b.transposed ? CUBLAS_OP_T : CUBLAS_OP_N,
        as_int(m, "m"), as_int(n, "n"), as_int(k, "k"), alpha, a.ptr, cuda_dtype(in_dtype),
        as_int(a.ld, "lda"), a.batch_stride, b.ptr, cuda_dtype(in_dtype), as_int(b.ld, "ldb"),
        b.batch_stride, beta_p, c, cuda_dtype(out_dtype), as_int(ldc, "ldc"), c_batch_stride,
        as_int(batch, "batch"), compute, CUBLAS_GEMM_DEFAULT));
  });
}

InputOperand input_operand(const at::Tensor& input, int64_t in_per_group) {
  const int64_t pixels = input.size(2) * input.size(3);
  at::Tensor x = input.reshape({input.size(0), input.size(1), pixels});
  const int64_t s_c = x.stride(1), s_p = x.stride(2);
  InputOperand op;
  if ((s_p == 1 || pixels == 1) && (s_c >= pixels || in_per_group == 1)) {
    op.channel_major = false;
    op.ld = std::max(s_c, pixels);
  } else if ((s_c == 1 || in_per_group == 1) && (s_p >= in_per_group || pixels == 1)) {
    op.channel_major = true;
    op.ld = std::max(s_p, in_per_group);
  } else {
    x = x.contiguous();
    op.channel_major = false;
    op.ld = pixels;
  }
  op.storage = x;
  op.base = static_cast<const char*>(x.data_ptr());
  op.sample_stride = x.stride(0);
  op.channel_stride = x.stride(1);
  return op;
}

bool input_needs_pack(const Problem& p, const InputOperand& x, int64_t rows) {
  return !(x.channel_major && x.sample_stride == p.in_pixels() * x.ld && rows == p.in_h);
}

MatrixRef chunk_input_operand(const Problem& p, const Chunk& c, const InputOperand& x,
                              at::Tensor& pack) {
  const int64_t esize = x.storage.element_size();
  if (c.samples == 1 || !input_needs_pack(p, x, c.rows))
    return MatrixRef{x.chunk_base(c, p.in_w, esize), x.ld, x.channel_major,
                     p.in_per_group * x.channel_stride};
  // Several samples of an NCHW-like input, or of fewer rows than a sample
  // has (the forward skips rows that reach no output): channels x (sample, pixel).
  const int64_t length = c.samples * c.rows * p.in_w;
  if (!x.channel_major)  // each (channel, sample) band is one contiguous run
    pack_runs_cuda(x.chunk_base(c, p.in_w, esize), c.samples, p.in_channels,
                   x.sample_stride * esize, x.channel_stride * esize, c.rows * p.in_w * esize,
                   pack.data_ptr());
  else  // torch views only here: each costs host time per chunk
    pack.narrow(0, 0, p.in_channels * length)
        .view({p.in_channels, c.samples, c.rows, p.in_w})
        .copy_(x.storage.view({p.batch, p.in_channels, p.in_h, p.in_w})
                   .narrow(0, c.n0, c.samples)
                   .narrow(2, c.row_begin, c.rows)
                   .transpose(0, 1));
  return MatrixRef{pack.data_ptr(), length, false, p.in_per_group * length};
}

at::Tensor weight_rows_k_major(const Problem& p, const at::Tensor& weight) {
  return weight.reshape({p.groups, p.in_per_group, p.out_per_group * p.kernel_taps()})
      .transpose(1, 2)
      .contiguous();
}

void columns_gemm_side_by_side_cuda(const Problem& p, const Chunk& c, const MatrixRef& x,
                                    const at::Tensor& weight, bool k_major, at::Tensor& columns,
                                    bool allow_tf32) {
  const int64_t esize = weight.element_size(), taps = p.kernel_taps();
  const int64_t col_rows = c.channels * taps, length = c.samples * c.rows * p.in_w;
  const int64_t w_row = p.out_per_group * taps, w_group = p.in_per_group * w_row;
  // columns[g] (length x col_rows, column-major) = x[g] · w[g], batched over
  // groups, w[g] = Cin_g x col_rows: weight[g]'s rows transposed (N-major), or
  // weight_rows_k_major's read as they are.
  MatrixRef a = x;
  a.ptr = static_cast<const char*>(x.ptr) + c.g0 * x.batch_stride * esize;
  const char* w = static_cast<const char*>(weight.data_ptr());
  const MatrixRef b =
      k_major ? MatrixRef{w + (c.g0 * w_group + c.c0 * taps * p.in_per_group) * esize,
                          p.in_per_group, false, w_group}
              : MatrixRef{w + (c.g0 * w_group + c.c0 * taps) * esize, w_row, true, w_group};
  // TF32 GEMMs bound by writing their columns (2K flops per 4-byte value, at
  // or below the H100's ~120 flop/B TF32 ridge: K <= 256) through cuBLASLt's
  // cached no-workspace plans: as fast as cuBLAS's pick, without its per-call
  // heuristic and memset. Above that cuBLAS's sm90 picks were faster (dcgan,
  // K = 512: 154 against 262 us). The rest, and shapes without a plan: cuBLAS.
  constexpr int64_t kLtMaxK = 256;
  const bool tf32 = allow_tf32 && weight.scalar_type() == at::kFloat;
  if (tf32 && p.in_per_group <= kLtMaxK &&
      lt_gemm_strided_batched(weight.scalar_type(), columns.scalar_type(), length, col_rows,
                              p.in_per_group, a, b, columns.data_ptr(), length, col_rows * length,
                              c.groups, allow_tf32))
    return;
  gemm_strided_batched(weight.scalar_type(), columns.scalar_type(), length, col_rows,
                       p.in_per_group, a, b, columns.data_ptr(), length, col_rows * length, 0.0,
                       c.groups, allow_tf32);
}

namespace {

// The GEMM operands of one chunk: A positioned at the chunk's first sample,
// group 0 and first input row; B at group 0 of a weight-like matrix of
// k rows of out_per_group*taps values per group.
struct ChunkOperands {
  const char* a;
  int64_t lda, a_sample_stride, a_group_stride;
  bool a_transposed;
  const char* b;
  int64_t k;  // contraction length per group
};

void columns_gemm(const Problem& p, const ColumnsShape& cs, const Chunk& c,
                  const ChunkOperands& op, at::ScalarType dtype, int64_t esize,
                  at::Tensor& columns, bool allow_tf32) {
  const int64_t col_esize = columns.element_size();
  const int64_t taps = cs.taps, pixels = c.rows * cs.width;
  const int64_t w_row = p.out_per_group * taps;        // weight row per contraction index
  const int64_t w_group = op.k * w_row;                // weight elements per group
  const int64_t c_group = c.channels * taps * pixels;  // columns per (sample, group)
  char* cols = static_cast<char*>(columns.data_ptr());

  // One strided-batched call over the larger of samples and groups.
  const bool batch_samples = c.samples >= c.groups;
  const int64_t loops = batch_samples ? c.groups : c.samples;
  for (int64_t l = 0; l < loops; ++l) {
    const int64_t n = batch_samples ? 0 : l, g = batch_samples ? l : 0;
    const int64_t grp = c.g0 + g;
    const MatrixRef a{op.a + (n * op.a_sample_stride + grp * op.a_group_stride) * esize, op.lda,
                      op.a_transposed, batch_samples ? op.a_sample_stride : op.a_group_stride};
    const MatrixRef b{op.b + (grp * w_group + c.c0 * taps) * esize, w_row, true,
                      batch_samples ? 0 : w_group};
    char* c_ptr = cols + (n * c.groups + g) * c_group * col_esize;
    gemm_strided_batched(dtype, columns.scalar_type(), pixels, c.channels * taps, op.k, a, b,
                         c_ptr, pixels, batch_samples ? c.groups * c_group : c_group, 0.0,
                         batch_samples ? c.samples : c.groups, allow_tf32);
  }
}

}  // namespace

void columns_gemm_made_cuda(const Problem& p, const ColumnsShape& cs, const Chunk& c,
                            const void* a, const void* b, int64_t k_per_group,
                            at::ScalarType dtype, at::Tensor& columns, bool allow_tf32) {
  const int64_t pixels = c.rows * cs.width;
  const ChunkOperands op{static_cast<const char*>(a),
                         pixels,
                         p.groups * k_per_group * pixels,
                         k_per_group * pixels,
                         false,
                         static_cast<const char*>(b),
                         k_per_group};
  columns_gemm(p, cs, c, op, dtype, c10::elementSize(dtype), columns, allow_tf32);
}

void columns_gemm_folded_cuda(const Problem& p, const ColumnsShape& cs, const Chunk& c,
                              const void* a, const void* b, int64_t k, at::ScalarType dtype,
                              at::Tensor& columns, bool allow_tf32) {
  const int64_t esize = c10::elementSize(dtype), col_esize = columns.element_size();
  const int64_t phases = cs.fold.phases;
  const int64_t positions = c.samples * c.rows * cs.fold.length;  // one phase plane
  const int64_t col_rows = c.channels * cs.taps, b_rows = p.out_per_group * cs.taps;
  for (int64_t g = 0; g < c.groups; ++g) {
    // columns (positions x col_rows per phase, column-major, rows phases
    // planes apart) = A[g][r] (K-major, read transposed) · B[g][r] (K-major).
    const MatrixRef a_ref{static_cast<const char*>(a) + g * phases * positions * k * esize, k,
                          true, positions * k};
    const MatrixRef b_ref{static_cast<const char*>(b) +
                              ((c.g0 + g) * phases * b_rows + c.c0 * cs.taps) * k * esize,
                          k, false, b_rows * k};
    char* c_ptr = static_cast<char*>(columns.data_ptr()) + g * col_rows * phases * positions * col_esize;
    // cuBLAS, not a cached cuBLASLt plan: Lt's first no-workspace algorithm was
    // sm80's (fcn_up TF32 1128 us against cuBLAS's sm90 742: NOTES.md, session 13).
    gemm_strided_batched(dtype, columns.scalar_type(), positions, col_rows, k, a_ref, b_ref,
                         c_ptr, phases * positions, positions, 0.0, phases, allow_tf32);
  }
}

void direct_gemm_cuda(const Problem& p, const InputOperand& x, const at::Tensor& weight,
                      at::Tensor& out, bool has_bias, bool allow_tf32) {
  const at::ScalarType dtype = weight.scalar_type();
  const int64_t esize = weight.element_size(), pixels = p.in_pixels();
  const char* w = static_cast<const char*>(weight.data_ptr());
  char* o = static_cast<char*>(out.data_ptr());
  const bool out_channel_major = out.suggest_memory_format() == at::MemoryFormat::ChannelsLast;
  const double beta = has_bias ? 1.0 : 0.0;
  for (int64_t g = 0; g < p.groups; ++g) {
    const char* x_ptr = x.base + g * p.in_per_group * x.channel_stride * esize;
    const char* w_ptr = w + g * p.in_per_group * p.out_per_group * esize;
    char* o_ptr = o + g * p.out_per_group * out.stride(1) * esize;
    if (!out_channel_major) {
      // out[n] (pixels x Cout_g, column-major) = x[n] · wᵀ
      const MatrixRef a{x_ptr, x.ld, x.channel_major, x.sample_stride};
      const MatrixRef b{w_ptr, p.out_per_group, true, 0};
      gemm_strided_batched(dtype, dtype, pixels, p.out_per_group, p.in_per_group, a, b, o_ptr,
                           out.stride(1), out.stride(0), beta, p.batch, allow_tf32);
    } else {
      // out[n] (Cout_g x pixels, column-major) = w · x[n]ᵀ
      const MatrixRef a{w_ptr, p.out_per_group, false, 0};
      const MatrixRef b{x_ptr, x.ld, !x.channel_major, x.sample_stride};
      gemm_strided_batched(dtype, dtype, p.out_per_group, pixels, p.in_per_group, a, b, o_ptr,
                           out.stride(3), out.stride(0), beta, p.batch, allow_tf32);
    }
  }
}

}  // namespace gemm_convt
