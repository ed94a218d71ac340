#include "slimformer/core/safetensors.h"

#include <fmt/format.h>

#include <algorithm>
#include <cstring>
#include <fstream>
#include <nlohmann/json.hpp>
#include <optional>
#include <string_view>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::core {

using nlohmann::json;

namespace {

struct DtypeName {
  const char* name;
  torch::ScalarType type;
};

constexpr DtypeName kDtypes[] = {
    {"F64", torch::kFloat64},   {"F32", torch::kFloat32}, {"F16", torch::kFloat16},
    {"BF16", torch::kBFloat16}, {"I64", torch::kInt64},   {"I32", torch::kInt32},
    {"I16", torch::kInt16},     {"I8", torch::kInt8},     {"U8", torch::kUInt8},
    {"BOOL", torch::kBool},
};

std::optional<torch::ScalarType> dtype_from_name(const std::string& name) {
  for (const auto& d : kDtypes)
    if (name == d.name) return d.type;
  return std::nullopt;
}

std::string dtype_to_name(torch::ScalarType type) {
  for (const auto& d : kDtypes)
    if (type == d.type) return d.name;
  throw std::invalid_argument(
      fmt::format("safetensors: unsupported dtype {}", c10::toString(type)));
}

// The header's length from a file's first 8 bytes (little-endian; fewer when the file is that
// short), refused when the file cannot hold it or it is past the limit.
uint64_t header_length(const std::string& first_bytes, uint64_t file_size,
                       const std::string& name) {
  if (first_bytes.size() < 8)
    throw UserError(
        fmt::format("{}: truncated safetensors file: {} bytes, the header length alone needs 8",
                    name, file_size));
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i)
    header_len = (header_len << 8) | static_cast<uint8_t>(first_bytes[i]);
  if (header_len > kMaxSafetensorsHeaderBytes)
    throw UserError(fmt::format("{}: safetensors header length {} exceeds the {} byte limit", name,
                                header_len, kMaxSafetensorsHeaderBytes));
  if (header_len > file_size - 8)
    throw UserError(
        fmt::format("{}: safetensors header length {} points past the end of the file ({} bytes)",
                    name, header_len, file_size));
  return header_len;
}

// The header: a JSON object.
json parse_header(std::string_view text, const std::string& name) {
  json header;
  try {
    header = json::parse(text);
  } catch (const json::exception& e) {
    throw UserError(fmt::format("{}: malformed safetensors header: {}", name, e.what()));
  }
  if (!header.is_object())
    throw UserError(fmt::format("{}: safetensors header must be a JSON object", name));
  return header;
}

// The dtype of a tensor's header entry.
torch::ScalarType entry_dtype(const json& entry, const std::string& key, const std::string& name) {
  auto bad = [&](const std::string& what) {
    return UserError(fmt::format("{}: tensor {}: {}", name, key, what));
  };
  if (!entry.is_object() || !entry.contains("dtype") || !entry.contains("shape") ||
      !entry.contains("data_offsets"))
    throw bad("entry needs dtype, shape and data_offsets");
  if (!entry["dtype"].is_string()) throw bad("dtype must be a string");
  auto dtype = dtype_from_name(entry["dtype"].get<std::string>());
  if (!dtype) throw bad(fmt::format("unsupported dtype {}", entry["dtype"].get<std::string>()));
  return *dtype;
}

}  // namespace

TensorMap parse_safetensors(const std::string& bytes, const std::string& name, Metadata* metadata) {
  const uint64_t header_len = header_length(bytes.substr(0, 8), bytes.size(), name);
  json header = parse_header(std::string_view(bytes).substr(8, header_len), name);

  const uint64_t data_start = 8 + header_len;
  const uint64_t data_size = bytes.size() - data_start;
  TensorMap tensors;
  for (const auto& [key, entry] : header.items()) {
    if (key == "__metadata__") {
      if (!entry.is_object())
        throw UserError(fmt::format("{}: __metadata__ must be an object", name));
      if (metadata)
        for (const auto& [mk, mv] : entry.items())
          (*metadata)[mk] = mv.is_string() ? mv.get<std::string>() : mv.dump();
      continue;
    }
    auto bad = [&, tensor = std::string(key)](const std::string& what) {
      return UserError(fmt::format("{}: tensor {}: {}", name, tensor, what));
    };
    const torch::ScalarType dtype = entry_dtype(entry, key, name);
    const json& shape_json = entry["shape"];
    if (!shape_json.is_array()) throw bad("shape must be a list");
    std::vector<int64_t> shape;
    uint64_t numel = 1;
    for (const auto& d : shape_json) {
      if (!d.is_number_unsigned()) throw bad("shape entries must be non-negative integers");
      uint64_t dim = d.get<uint64_t>();
      if (dim != 0 && numel > (uint64_t{1} << 62) / dim) throw bad("shape is too large");
      numel *= dim;
      shape.push_back(static_cast<int64_t>(dim));
    }
    const json& offsets = entry["data_offsets"];
    if (!offsets.is_array() || offsets.size() != 2 || !offsets[0].is_number_unsigned() ||
        !offsets[1].is_number_unsigned())
      throw bad("data_offsets must be two non-negative integers");
    uint64_t begin = offsets[0].get<uint64_t>(), end = offsets[1].get<uint64_t>();
    if (begin > end || end > data_size)
      throw bad(fmt::format("data_offsets [{}, {}] lie outside the {} data bytes", begin, end,
                            data_size));
    uint64_t expected = numel * c10::elementSize(dtype);
    if (end - begin != expected)
      throw bad(fmt::format("data_offsets span {} bytes but the shape and dtype need {}",
                            end - begin, expected));
    torch::Tensor tensor = torch::empty(shape, torch::TensorOptions().dtype(dtype));
    if (expected > 0) std::memcpy(tensor.data_ptr(), bytes.data() + data_start + begin, expected);
    tensors.emplace(key, std::move(tensor));
  }
  return tensors;
}

TensorMap load_safetensors(const std::filesystem::path& path, Metadata* metadata) {
  if (!std::filesystem::exists(path))
    throw UserError(fmt::format("{}: file not found", path.string()));
  return parse_safetensors(read_file(path), path.string(), metadata);
}

std::map<std::string, torch::ScalarType> safetensors_dtypes(const std::filesystem::path& path) {
  const std::string name = path.string();
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(fmt::format("{}: file not found", name));
  const uint64_t file_size = std::filesystem::file_size(path);
  std::string first_bytes(std::min<uint64_t>(8, file_size), '\0');
  in.read(first_bytes.data(), static_cast<std::streamsize>(first_bytes.size()));
  std::string header_text(header_length(first_bytes, file_size, name), '\0');
  in.read(header_text.data(), static_cast<std::streamsize>(header_text.size()));
  const json header = parse_header(header_text, name);
  std::map<std::string, torch::ScalarType> out;
  for (const auto& [key, entry] : header.items())
    if (key != "__metadata__") out[key] = entry_dtype(entry, key, name);
  return out;
}

std::string serialize_safetensors(const TensorMap& tensors, const Metadata& metadata) {
  json header = json::object();
  if (!metadata.empty()) header["__metadata__"] = metadata;
  std::vector<torch::Tensor> contiguous;
  uint64_t offset = 0;
  for (const auto& [key, tensor] : tensors) {  // std::map: sorted names, reproducible files
    torch::Tensor t = tensor.detach().to(torch::kCPU).contiguous();
    uint64_t size = t.numel() * t.element_size();
    header[key] = {{"dtype", dtype_to_name(t.scalar_type())},
                   {"shape", t.sizes().vec()},
                   {"data_offsets", {offset, offset + size}}};
    offset += size;
    contiguous.push_back(t);
  }
  std::string header_text = header.dump();
  header_text.append((8 - header_text.size() % 8) % 8, ' ');  // the format pads to 8 bytes
  std::string out;
  out.reserve(8 + header_text.size() + offset);
  uint64_t len = header_text.size();
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((len >> (8 * i)) & 0xff));
  out += header_text;
  for (const auto& t : contiguous)
    out.append(static_cast<const char*>(t.data_ptr()), t.numel() * t.element_size());
  return out;
}

void save_safetensors(const std::filesystem::path& path, const TensorMap& tensors,
                      const Metadata& metadata) {
  std::string bytes = serialize_safetensors(tensors, metadata);
  write_text_atomically(path, bytes);
}

}  // namespace slimformer::core
