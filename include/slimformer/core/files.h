// File helpers: atomic writes (temporary name, then rename) so that an interrupted write never
// leaves a half-written file or checkpoint behind, and whole-file reads with clear errors.
#pragma once

#include <filesystem>
#include <functional>
#include <ostream>
#include <string>

namespace slimformer::core {

// Writes `path` through `write` into a temporary sibling, flushes it, then renames it over `path`.
void write_file_atomically(const std::filesystem::path& path,
                           const std::function<void(std::ostream&)>& write);
void write_text_atomically(const std::filesystem::path& path, const std::string& text);

// Builds a directory through `fill` in a temporary sibling, then swaps it in for `dir`; the old
// directory is removed only after the new one is in place.
void write_directory_atomically(const std::filesystem::path& dir,
                                const std::function<void(const std::filesystem::path&)>& fill);

std::string read_file(const std::filesystem::path& path);

// Total size of the regular files directly in `dir` (a checkpoint's size on disk).
uintmax_t directory_bytes(const std::filesystem::path& dir);

}  // namespace slimformer::core
