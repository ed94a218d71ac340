#include "slimformer/data/text_file.h"

#include <fmt/format.h>
#include <zlib.h>

#include <filesystem>

#include "slimformer/core/error.h"

namespace slimformer::data {

std::vector<std::string> read_lines(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw core::UserError(fmt::format("{}: file not found", path));
  // gzopen reads plain files transparently, so one path serves both.
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw core::UserError(fmt::format("{}: cannot open file", path));
  gzbuffer(file, 1 << 17);
  std::vector<std::string> lines;
  std::string current;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) {
    for (int i = 0; i < n; ++i) {
      if (buffer[i] == '\n') {
        if (!current.empty() && current.back() == '\r') current.pop_back();
        lines.push_back(std::move(current));
        current.clear();
      } else {
        current.push_back(buffer[i]);
      }
    }
  }
  int error = Z_OK;
  const char* message = gzerror(file, &error);
  std::string what = message ? message : "";
  gzclose(file);
  if (n < 0 || (error != Z_OK && error != Z_STREAM_END))
    throw core::UserError(fmt::format("{}: corrupt or truncated gzip data ({})", path, what));
  if (!current.empty()) lines.push_back(std::move(current));
  return lines;
}

}  // namespace slimformer::data
