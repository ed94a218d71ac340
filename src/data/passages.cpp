#include "slimformer/data/passages.h"

#include <fmt/format.h>

#include <set>

#include "slimformer/core/error.h"
#include "slimformer/data/text_file.h"

namespace slimformer::data {

namespace {

// LMDB keys hold at most 511 bytes.
constexpr size_t kMaxIdBytes = 400;

bool is_squad_file(const std::string& path) {
  for (const char* ending : {".json", ".json.gz"}) {
    const std::string e = ending;
    if (path.size() >= e.size() && path.compare(path.size() - e.size(), e.size(), e) == 0)
      return true;
  }
  return false;
}

}  // namespace

std::string squad_passage_id(const std::string& title, size_t paragraph) {
  return fmt::format("{}#{}", title, paragraph);
}

std::vector<Passage> squad_passages(const SquadDataset& dataset) {
  std::vector<Passage> out;
  for (const auto& article : dataset.articles)
    for (size_t p = 0; p < article.paragraphs.size(); ++p)
      out.push_back({squad_passage_id(article.title, p), article.paragraphs[p].context});
  return out;
}

std::vector<Passage> read_passages(const std::string& path) {
  if (is_squad_file(path)) return squad_passages(read_squad(path));
  std::vector<Passage> out;
  std::set<std::string> seen;
  const auto lines = read_lines(path);
  for (size_t i = 0; i < lines.size(); ++i) {
    const std::string& line = lines[i];
    if (line.empty()) continue;
    auto fail = [&](const std::string& why) {
      return core::UserError(fmt::format("{}:{}: {}", path, i + 1, why));
    };
    const size_t tab = line.find('\t');
    if (tab == std::string::npos) throw fail("expected id<TAB>text");
    Passage p{line.substr(0, tab), line.substr(tab + 1)};
    if (p.id.empty() || p.text.empty()) throw fail("empty id or text");
    if (p.id.size() > kMaxIdBytes) throw fail(fmt::format("id longer than {} bytes", kMaxIdBytes));
    if (!seen.insert(p.id).second) throw fail(fmt::format("repeated id '{}'", p.id));
    out.push_back(std::move(p));
  }
  if (out.empty()) throw core::UserError(fmt::format("{}: no passages", path));
  return out;
}

}  // namespace slimformer::data
