// Lists as options write them on one line: comma-separated values ("a,b,,c" -> a, b, c).
#pragma once

#include <string>
#include <vector>

namespace slimformer::core {

// The non-empty items of `text` between commas, in order.
std::vector<std::string> split_commas(const std::string& text);

}  // namespace slimformer::core
