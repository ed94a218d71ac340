#include "slimformer/data/wordpiece.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"
#include "slimformer/core/unicode.h"
#include "slimformer/data/text_file.h"

namespace slimformer::data {

namespace {

constexpr size_t kMaxWordCharacters = 100;

bool is_cjk(char32_t c) {
  return (c >= 0x4E00 && c <= 0x9FFF) || (c >= 0x3400 && c <= 0x4DBF) ||
         (c >= 0x20000 && c <= 0x2A6DF) || (c >= 0x2A700 && c <= 0x2B73F) ||
         (c >= 0x2B740 && c <= 0x2B81F) || (c >= 0x2B820 && c <= 0x2CEAF) ||
         (c >= 0xF900 && c <= 0xFAFF) || (c >= 0x2F800 && c <= 0x2FA1F);
}

// The base letter of a Latin-1 or Latin Extended-A letter with a diacritic (what NFD followed by
// dropping the combining marks leaves), or c itself.
char32_t strip_accent(char32_t c) {
  static const char32_t* kLatin1 =  // U+00C0 .. U+00FF; 0 = no decomposition
      U"AAAAAA\0CEEEEIIII\0NOOOOO\0\0UUUUY\0\0aaaaaa\0ceeeeiiii\0nooooo\0\0uuuuy\0y";
  static const char32_t* kExtendedA =  // U+0100 .. U+017F
      U"AaAaAaCcCcCcCcDd\0\0EeEeEeEeEeGgGgGgGgHh\0\0IiIiIiIiI\0\0\0JjKk\0LlLlLl\0\0\0\0NnNnNn"
      U"\0\0\0OoOoOo\0\0RrRrRrSsSsSsSsTtTt\0\0UuUuUuUuUuUuWwYyYZzZzZz\0";
  char32_t base = 0;
  if (c >= 0xC0 && c <= 0xFF) base = kLatin1[c - 0xC0];
  if (c >= 0x100 && c <= 0x17F) base = kExtendedA[c - 0x100];
  return base ? base : c;
}

bool is_combining_mark(char32_t c) {
  return (c >= 0x300 && c <= 0x36F) || (c >= 0x1AB0 && c <= 0x1AFF) ||
         (c >= 0x1DC0 && c <= 0x1DFF) || (c >= 0x20D0 && c <= 0x20FF) ||
         (c >= 0xFE20 && c <= 0xFE2F);
}

}  // namespace

WordPieceTokenizer WordPieceTokenizer::load(const std::string& path, bool lower_case) {
  WordPieceTokenizer t;
  t.path_ = path;
  t.lower_case_ = lower_case;
  auto lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    std::string piece = lines[i];
    // Hugging Face strips each line; pieces never carry surrounding spaces.
    while (!piece.empty() && (piece.back() == ' ' || piece.back() == '\t')) piece.pop_back();
    if (!t.ids_.emplace(piece, static_cast<int64_t>(t.pieces_.size())).second)
      throw core::UserError(
          fmt::format("{}:{}: piece \"{}\" appears twice in the vocabulary", path, i + 1, piece));
    t.pieces_.push_back(piece);
  }
  if (t.pieces_.empty()) throw core::UserError(fmt::format("{}: empty vocabulary", path));
  auto special = [&](const char* name) {
    auto it = t.ids_.find(name);
    if (it == t.ids_.end())
      throw core::UserError(fmt::format("{}: the vocabulary has no {} piece", path, name));
    return it->second;
  };
  t.pad_ = special("[PAD]"), t.unk_ = special("[UNK]"), t.cls_ = special("[CLS]");
  t.sep_ = special("[SEP]"), t.mask_ = special("[MASK]");
  return t;
}

void WordPieceTokenizer::save_to(const std::filesystem::path& dir) const {
  Tokenizer::save_to(dir);
  nlohmann::json settings = {{"do_lower_case", lower_case_}, {"tokenizer_class", "BertTokenizer"}};
  core::write_text_atomically(dir / kSettingsFile, settings.dump(2) + "\n");
}

std::vector<std::string> WordPieceTokenizer::basic_tokenize(const std::string& text) const {
  std::vector<std::string> words;
  std::u32string current;
  auto flush = [&] {
    if (!current.empty()) words.push_back(core::code_points_to_utf8(current));
    current.clear();
  };
  for (char32_t c : core::utf8_to_code_points(text)) {
    if (c == 0 || c == 0xFFFD || core::is_control(c)) continue;
    if (core::is_whitespace(c)) {
      flush();
      continue;
    }
    if (lower_case_) {
      c = strip_accent(core::to_lower(c));
      if (is_combining_mark(c)) continue;
    }
    if (is_cjk(c) || core::is_punctuation(c)) {  // a word of its own
      flush();
      current = c;
      flush();
      continue;
    }
    current += c;
  }
  flush();
  return words;
}

void WordPieceTokenizer::word_pieces(const std::string& word, std::vector<int64_t>& out) const {
  if (core::utf8_to_code_points(word).size() > kMaxWordCharacters) {
    out.push_back(unk_);
    return;
  }
  std::vector<int64_t> pieces;
  size_t start = 0;
  while (start < word.size()) {
    // The longest vocabulary piece starting here (ending on a character boundary).
    int64_t found = -1;
    size_t end = word.size();
    for (; end > start; --end) {
      if (end < word.size() && (static_cast<unsigned char>(word[end]) & 0xC0) == 0x80) continue;
      std::string candidate = (start > 0 ? "##" : "") + word.substr(start, end - start);
      if (auto it = ids_.find(candidate); it != ids_.end()) {
        found = it->second;
        break;
      }
    }
    if (found < 0) {
      out.push_back(unk_);
      return;
    }
    pieces.push_back(found);
    start = end;
  }
  out.insert(out.end(), pieces.begin(), pieces.end());
}

std::vector<int64_t> WordPieceTokenizer::encode(const std::string& text) const {
  std::vector<int64_t> ids;
  for (const auto& word : basic_tokenize(text)) word_pieces(word, ids);
  return ids;
}

std::string WordPieceTokenizer::decode(const std::vector<int64_t>& ids) const {
  std::string text;
  for (int64_t id : ids) {
    if (id < 0 || id >= size())
      throw core::UserError(fmt::format("token id {} is outside the vocabulary of {}", id, size()));
    if (id == pad_ || id == cls_ || id == sep_ || id == mask_) continue;
    const std::string& p = pieces_[id];
    if (p.starts_with("##"))
      text += p.substr(2);
    else
      text += (text.empty() ? "" : " ") + p;
  }
  return text;
}

}  // namespace slimformer::data
