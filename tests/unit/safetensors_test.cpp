#include "slimformer/core/safetensors.h"

#include <gtest/gtest.h>

#include "test_helpers.h"

namespace slimformer {
namespace {

using testing::expect_user_error;

std::string with_header(const std::string& header, const std::string& data, uint64_t length) {
  std::string out;
  for (int i = 0; i < 8; ++i) out.push_back(static_cast<char>((length >> (8 * i)) & 0xff));
  return out + header + data;
}

TEST(Safetensors, RoundTripKeepsNamesShapesDtypesAndMetadata) {
  core::TensorMap tensors = {{"a.weight", torch::randn({3, 4})},
                             {"b.ids", torch::arange(5, torch::kInt64)},
                             {"c.half", torch::randn({2}).to(torch::kFloat16)},
                             {"d.empty", torch::zeros({0, 3})}};
  core::Metadata meta{{"format", "pt"}};
  std::string bytes = core::serialize_safetensors(tensors, meta);
  uint64_t header_len = 0;
  for (int i = 7; i >= 0; --i) header_len = (header_len << 8) | uint8_t(bytes[i]);
  EXPECT_EQ(header_len % 8, 0u);  // the format aligns the data to 8 bytes
  core::Metadata read_meta;
  auto read = core::parse_safetensors(bytes, "x", &read_meta);
  ASSERT_EQ(read.size(), tensors.size());
  for (const auto& [k, v] : tensors) {
    EXPECT_EQ(read.at(k).scalar_type(), v.scalar_type()) << k;
    EXPECT_TRUE(torch::equal(read.at(k), v)) << k;
  }
  EXPECT_EQ(read_meta.at("format"), "pt");
}

TEST(Safetensors, DtypesComeFromTheHeaderAlone) {
  testing::TempDir dir;
  const auto path = dir.path() / "m.safetensors";
  core::save_safetensors(path,
                         {{"a.half", torch::randn({2, 3}).to(torch::kFloat16)},
                          {"b.ids", torch::arange(4, torch::kInt64)}},
                         {{"format", "pt"}});
  auto dtypes = core::safetensors_dtypes(path);
  ASSERT_EQ(dtypes.size(), 2u);  // the metadata is not a tensor
  EXPECT_EQ(dtypes.at("a.half"), torch::kFloat16);
  EXPECT_EQ(dtypes.at("b.ids"), torch::kInt64);
  // A truncated file is refused as parse_safetensors refuses it.
  testing::write_file(dir.path() / "short.safetensors", "abc");
  expect_user_error([&] { core::safetensors_dtypes(dir.path() / "short.safetensors"); },
                    (dir.path() / "short.safetensors").string() +
                        ": truncated safetensors file: 3 bytes, the header length alone needs 8");
}

TEST(Safetensors, ReadsAFileWrittenByTheReferenceLayout) {
  // {"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}} followed by 1.0f and 2.0f.
  std::string header = R"({"t":{"dtype":"F32","shape":[2],"data_offsets":[0,8]}})";
  float values[2] = {1.0f, 2.0f};
  auto read = core::parse_safetensors(
      with_header(header, std::string(reinterpret_cast<char*>(values), 8), header.size()), "ref");
  EXPECT_FLOAT_EQ(read.at("t")[1].item<float>(), 2.0f);
}

TEST(Safetensors, RefusesTruncatedFile) {
  expect_user_error(
      [] { core::parse_safetensors("abc", "m.safetensors"); },
      "m.safetensors: truncated safetensors file: 3 bytes, the header length alone needs 8");
}

TEST(Safetensors, RefusesHeaderPastEndOfFile) {
  expect_user_error(
      [] { core::parse_safetensors(with_header("{}", "", 500), "m.safetensors"); },
      "m.safetensors: safetensors header length 500 points past the end of the file (10 bytes)");
}

TEST(Safetensors, RefusesOversizedHeader) {
  expect_user_error(
      [] { core::parse_safetensors(with_header("{}", "", 1ull << 40), "m.safetensors"); },
      "m.safetensors: safetensors header length 1099511627776 exceeds the 104857600 byte limit");
}

TEST(Safetensors, RefusesOffsetsOutsideData) {
  std::string header = R"({"t":{"dtype":"F32","shape":[4],"data_offsets":[0,16]}})";
  expect_user_error(
      [&] {
        core::parse_safetensors(with_header(header, std::string(8, '\0'), header.size()), "m");
      },
      "m: tensor t: data_offsets [0, 16] lie outside the 8 data bytes");
}

TEST(Safetensors, RefusesShapeThatDisagreesWithOffsets) {
  std::string header = R"({"t":{"dtype":"F32","shape":[3],"data_offsets":[0,8]}})";
  expect_user_error(
      [&] {
        core::parse_safetensors(with_header(header, std::string(8, '\0'), header.size()), "m");
      },
      "m: tensor t: data_offsets span 8 bytes but the shape and dtype need 12");
}

TEST(Safetensors, RefusesMalformedHeaderJson) {
  std::string header = R"({"t": )";
  try {
    core::parse_safetensors(with_header(header, "", header.size()), "m");
    FAIL();
  } catch (const core::UserError& e) {
    EXPECT_EQ(std::string(e.what()).rfind("m: malformed safetensors header:", 0), 0u) << e.what();
  }
}

TEST(Safetensors, RefusesUnknownDtype) {
  std::string header = R"({"t":{"dtype":"F8","shape":[1],"data_offsets":[0,1]}})";
  expect_user_error(
      [&] {
        core::parse_safetensors(with_header(header, std::string(1, '\0'), header.size()), "m");
      },
      "m: tensor t: unsupported dtype F8");
}

TEST(Safetensors, SaveIsAtomicAndLoadReportsMissingFile) {
  testing::TempDir dir;
  core::save_safetensors(dir / "w.safetensors", {{"x", torch::ones({2})}});
  EXPECT_TRUE(
      torch::equal(core::load_safetensors(dir / "w.safetensors").at("x"), torch::ones({2})));
  size_t files = std::distance(std::filesystem::directory_iterator(dir.path()), {});
  EXPECT_EQ(files, 1u);  // no temporary left behind
  expect_user_error([&] { core::load_safetensors(dir / "none.safetensors"); },
                    (dir / "none.safetensors").string() + ": file not found");
}

}  // namespace
}  // namespace slimformer
