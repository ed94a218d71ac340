// Reading text corpora: plain or gzip-compressed (by content, not by name), one item per line.
#pragma once

#include <string>
#include <vector>

namespace slimformer::data {

// The whole content of a file, decompressed if it is gzip; a UserError naming the file if it
// cannot be read or is not valid gzip.
std::string read_text(const std::string& path);

// All lines of a file without their line ends; a UserError naming the file if it cannot be
// read or is not valid gzip.
std::vector<std::string> read_lines(const std::string& path);
// The lines of several files, in order.
std::vector<std::string> read_lines(const std::vector<std::string>& paths);

}  // namespace slimformer::data
