// Unicode helpers for the text metrics and tokenizers that must match Python's behaviour:
// UTF-8 decoding and encoding, and character classes and lower-casing from the C.UTF-8 locale
// (glibc's full Unicode tables), which agree with Python's str methods for the text we meet.
#pragma once

#include <string>

namespace slimformer::core {

// Code points of UTF-8 `text`; an invalid byte becomes U+FFFD, as Python's errors="replace" does.
std::u32string utf8_to_code_points(const std::string& text);
std::string code_points_to_utf8(const std::u32string& code_points);
std::string code_point_to_utf8(char32_t c);

char32_t to_lower(char32_t c);
bool is_alnum(char32_t c);        // letters and digits of every script (Python's str.isalnum)
bool is_ascii_punctuation(char32_t c);  // Python's string.punctuation
bool is_punctuation(char32_t c);        // Unicode punctuation and symbols, ASCII symbols included
bool is_whitespace(char32_t c);   // what Python's str.split() splits on
bool is_control(char32_t c);

}  // namespace slimformer::core
