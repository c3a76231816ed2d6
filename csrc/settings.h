#pragma once

// Process-wide settings, read by the operator at every call so that its
// schema stays free of them (TorchScript and torch.compile call
// torch.ops.gemm_convt.conv_transpose2d with the convolution's arguments
// only). Python's gemm_convt.set_workspace_limit / set_allow_tf32 set them.

#include <c10/util/Optional.h>

#include <cstdint>

namespace gemm_convt {

constexpr int64_t kDefaultWorkspaceBytes = int64_t(256) << 20;

// Cap on the columns buffer of one call (bytes, > 0).
void set_workspace_limit(int64_t bytes);
int64_t workspace_limit();

// TF32 for float32 GEMMs on CUDA: true/false override, nullopt follows torch's
// policy for the cuDNN convolution this op replaces.
void set_allow_tf32(c10::optional<bool> allow);
c10::optional<bool> allow_tf32_override();
bool allow_tf32();                 // the decision the next call uses
bool torch_conv_allows_tf32();     // torch's cuDNN-convolution TF32 policy

}  // namespace gemm_convt
