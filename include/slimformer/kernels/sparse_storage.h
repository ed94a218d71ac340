// Pruned matrices stored compressed inside a safetensors file: a matrix whose compressed sparse
// rows take fewer bytes than its dense form is written as three tensors, NAME.csr_values (the
// file's float type), NAME.csr_columns (int16 read as unsigned, or int32) and NAME.csr_row_offsets
// (int32), and the file's metadata names the format and each matrix's shape under
// "slimformer.sparse". Readers that know nothing of it see extra tensors and no NAME.
#pragma once

#include <string>

#include "slimformer/core/safetensors.h"

namespace slimformer::kernels {

inline constexpr const char* kSparseMetadataKey = "slimformer.sparse";

// Replaces every 2-D floating tensor that is smaller in CSR form (values in `dtype`) by its CSR
// parts, and records them in `metadata`.
core::TensorMap pack_sparse(const core::TensorMap& tensors, torch::ScalarType dtype,
                            core::Metadata& metadata);

// The dense tensors back (float32), from the parts `metadata` names; a missing or inconsistent part
// is a UserError naming `source` and the tensor.
core::TensorMap unpack_sparse(core::TensorMap tensors, const core::Metadata& metadata,
                              const std::string& source);

}  // namespace slimformer::kernels
