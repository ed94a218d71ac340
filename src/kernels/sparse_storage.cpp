#include "slimformer/kernels/sparse_storage.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "slimformer/core/error.h"
#include "slimformer/kernels/sparse_matmul.h"

namespace slimformer::kernels {

namespace {

const std::string kValues = ".csr_values", kColumns = ".csr_columns",
                  kOffsets = ".csr_row_offsets";

}  // namespace

core::TensorMap pack_sparse(const core::TensorMap& tensors, torch::ScalarType dtype,
                            core::Metadata& metadata) {
  core::TensorMap out;
  nlohmann::json packed = nlohmann::json::object();
  for (const auto& [name, tensor] : tensors) {
    if (tensor.dim() != 2 || !c10::isFloatingType(tensor.scalar_type())) {
      out[name] = tensor;
      continue;
    }
    const int64_t nnz = tensor.ne(0).sum().item<int64_t>();
    const int64_t rows = tensor.size(0), cols = tensor.size(1);
    const int64_t index_bytes = cols <= 65536 ? 2 : 4;
    const int64_t value_bytes = static_cast<int64_t>(c10::elementSize(dtype));
    const int64_t sparse_bytes = nnz * (value_bytes + index_bytes) + (rows + 1) * 4;
    if (sparse_bytes >= rows * cols * value_bytes) {
      out[name] = tensor;
      continue;
    }
    auto csr = CsrMatrix::from_dense(tensor);
    out[name + kValues] = csr.values.to(dtype);
    out[name + kColumns] = csr.columns;
    out[name + kOffsets] = csr.row_offsets;
    packed[name] = {{"shape", {rows, cols}}, {"columns", index_bytes == 2 ? "uint16" : "int32"}};
  }
  if (!packed.empty())
    metadata[kSparseMetadataKey] =
        nlohmann::json{{"format", "csr"}, {"version", 1}, {"tensors", packed}}.dump();
  return out;
}

core::TensorMap unpack_sparse(core::TensorMap tensors, const core::Metadata& metadata,
                              const std::string& source) {
  auto it = metadata.find(kSparseMetadataKey);
  if (it == metadata.end()) return tensors;
  auto fail = [&](const std::string& what) {
    throw core::UserError(fmt::format("{}: sparse tensor {}", source, what));
  };
  nlohmann::json description;
  try {
    description = nlohmann::json::parse(it->second);
  } catch (const std::exception& e) {
    fail(fmt::format("metadata {} is not JSON: {}", kSparseMetadataKey, e.what()));
  }
  if (!description.is_object() || description["format"] != "csr" ||
      !description.contains("tensors") || !description["tensors"].is_object())
    fail(fmt::format("metadata {} names no csr tensors", kSparseMetadataKey));
  for (const auto& item : description["tensors"].items()) {
    const std::string& name = item.key();
    const nlohmann::json& entry = item.value();
    auto take = [&](const std::string& suffix) {
      auto part = tensors.find(name + suffix);
      if (part == tensors.end()) fail(fmt::format("{}: {} is missing", name, name + suffix));
      auto t = part->second;
      tensors.erase(part);
      return t;
    };
    CsrMatrix csr;
    try {
      csr.rows = entry.at("shape").at(0).get<int64_t>();
      csr.cols = entry.at("shape").at(1).get<int64_t>();
    } catch (const std::exception&) {
      fail(fmt::format("{}: no [rows, cols] shape in the metadata", name));
    }
    csr.values = take(kValues).to(torch::kFloat32).contiguous();
    csr.columns = take(kColumns).contiguous();
    csr.row_offsets = take(kOffsets).contiguous();
    const auto expected_columns = csr.cols <= 65536 ? torch::kInt16 : torch::kInt32;
    if (csr.rows < 0 || csr.cols < 0 || csr.row_offsets.scalar_type() != torch::kInt32 ||
        csr.row_offsets.dim() != 1 || csr.row_offsets.numel() != csr.rows + 1 ||
        csr.columns.scalar_type() != expected_columns || csr.values.dim() != 1 ||
        csr.columns.numel() != csr.values.numel())
      fail(fmt::format("{}: parts do not fit a {}x{} matrix", name, csr.rows, csr.cols));
    auto offsets = csr.row_offsets;
    const bool ordered = csr.rows == 0 || (offsets[0].item<int32_t>() == 0 &&
                                           (offsets.slice(0, 1) >= offsets.slice(0, 0, -1))
                                               .all()
                                               .item<bool>());
    if (!ordered || offsets[csr.rows].item<int32_t>() != csr.values.numel())
      fail(fmt::format("{}: row offsets are not a running count of its {} values", name,
                       csr.values.numel()));
    auto columns = csr.columns.to(torch::kLong);
    if (csr.columns.scalar_type() == torch::kInt16) columns = columns.bitwise_and(0xFFFF);
    if (columns.numel() > 0 && (columns.min().item<int64_t>() < 0 ||
                                columns.max().item<int64_t>() >= csr.cols))
      fail(fmt::format("{}: a column index lies outside its {} columns", name, csr.cols));
    tensors[name] = csr.to_dense();
  }
  return tensors;
}

}  // namespace slimformer::kernels
