#include "slimformer/data/text_file.h"

#include <fmt/format.h>
#include <zlib.h>

#include <filesystem>

#include "slimformer/core/error.h"

namespace slimformer::data {

std::string read_text(const std::string& path) {
  if (!std::filesystem::is_regular_file(path))
    throw core::UserError(fmt::format("{}: file not found", path));
  // gzopen reads plain files transparently, so one path serves both.
  gzFile file = gzopen(path.c_str(), "rb");
  if (!file) throw core::UserError(fmt::format("{}: cannot open file", path));
  gzbuffer(file, 1 << 17);
  std::string text;
  char buffer[1 << 16];
  int n = 0;
  while ((n = gzread(file, buffer, sizeof buffer)) > 0) text.append(buffer, n);
  int error = Z_OK;
  const char* message = gzerror(file, &error);
  std::string what = message ? message : "";
  gzclose(file);
  if (n < 0 || (error != Z_OK && error != Z_STREAM_END))
    throw core::UserError(fmt::format("{}: corrupt or truncated gzip data ({})", path, what));
  return text;
}

std::vector<std::string> read_lines(const std::string& path) {
  const std::string text = read_text(path);
  std::vector<std::string> lines;
  size_t start = 0;
  while (start < text.size()) {
    size_t end = text.find('\n', start);
    if (end == std::string::npos) end = text.size();
    size_t stop = end;
    if (stop > start && text[stop - 1] == '\r') --stop;
    lines.emplace_back(text, start, stop - start);
    start = end + 1;
  }
  return lines;
}

std::vector<std::string> read_lines(const std::vector<std::string>& paths) {
  std::vector<std::string> lines;
  for (const auto& path : paths) {
    auto more = read_lines(path);
    lines.insert(lines.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  return lines;
}

}  // namespace slimformer::data
