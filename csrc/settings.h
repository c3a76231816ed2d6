#pragma once

// Process-wide settings, read by the operator at every call so that its
// schema stays free of them (TorchScript and torch.compile call
// torch.ops.gemm_convt.conv_transpose2d with the convolution's arguments
// only). Python's gemm_convt.set_workspace_limit / set_allow_tf32 set them.

#include <c10/util/Optional.h>

#include <cstdint>

namespace gemm_convt {

constexpr int64_t kDefaultWorkspaceBytes = int64_t(64) << 20;

// Cap on the columns buffer of one call (bytes, > 0).
void set_workspace_limit(int64_t bytes);
int64_t workspace_limit();

// TF32 for float32 GEMMs on CUDA: plain TF32 only when set to true; false and
// nullopt (the default) give float32-accurate results (gemm_convt/_settings.py
// says why the default does not follow torch's cuDNN flag).
void set_allow_tf32(c10::optional<bool> allow);
c10::optional<bool> allow_tf32_override();
bool allow_tf32();                 // the decision the next call uses
bool torch_conv_allows_tf32();     // torch's cuDNN-convolution TF32 policy (for reference)

// The float32 columns GEMM without TF32: three TF32 products of split
// operands (1), cuBLAS's IEEE SIMT GEMM (0), or by problem.h's
// split_tf32_takes (-1, default: split where the width fold halves the columns).
void set_fp32_split(int mode);
int fp32_split();

// float16/bfloat16 columns kept in float32 (true) or in the input dtype (false, default).
void set_float_columns(bool enabled);
bool float_columns();

// Kernel width folded into the GEMM: 1 yes, 0 no, -1 default (no).
void set_width_folding(int mode);
int width_folding();

// Problems whose taps never overlap run one fused kernel, GEMM writing the
// output (CUDA; float32, TF32, fp16, bf16): 1 wherever it applies, 0 never,
// -1 default (gap-free cells with 16-byte copies, channels_last inputs; disjoint_taps.cuh).
void set_disjoint_taps(int mode);
int disjoint_taps();

// Output values gathered and contracted on the fly where a problem has few
// multiply-adds per output (CUDA): 1 always, 0 never, -1 default (by the rule).
void set_direct_gather(int mode);
int direct_gather();

// The tensor-core implicit GEMM (CUDA; float32, float16, bfloat16): 1 wherever
// it applies, 0 never, -1 default (by the cost model).
void set_implicit_gemm(int mode);
int implicit_gemm();

// col2im's block items (include/gemm_convt/col2im_block.h) where they apply
// (default), or single output columns everywhere: a switch for tests and A/B
// probes (same sums, same bits).
void set_col2im_blocks(bool enabled);
bool col2im_blocks();

// CUDA: cuBLAS GEMMs replayed from CUDA graphs once a call repeats
// (cuda/gemm_graphs.h; default), or every GEMM enqueued eagerly.
void set_gemm_graphs(bool enabled);
bool gemm_graphs();

}  // namespace gemm_convt
