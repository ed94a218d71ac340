#include "slimformer/data/squad.h"

#include <fmt/format.h>

#include <nlohmann/json.hpp>

#include "slimformer/core/error.h"
#include "slimformer/core/unicode.h"
#include "slimformer/data/text_file.h"

namespace slimformer::data {

using nlohmann::json;

namespace {

// Field access that names the file and the JSON path on failure.
class Fields {
 public:
  explicit Fields(const std::string& path) : path_(path) {}
  const json& at(const json& object, const std::string& where, const char* key,
                 json::value_t type) const {
    if (!object.is_object() || !object.contains(key))
      throw core::UserError(fmt::format("{}: {}: missing field \"{}\"", path_, where, key));
    const json& value = object.at(key);
    const bool ok =
        type == json::value_t::number_integer ? value.is_number_integer() : value.type() == type;
    if (!ok)
      throw core::UserError(fmt::format("{}: {}.{} has the wrong type: {}", path_, where, key,
                                        value.dump().substr(0, 60)));
    return value;
  }

 private:
  const std::string& path_;
};

// Byte offset of each code point of `text`, plus the end.
std::vector<int64_t> code_point_offsets(const std::string& text) {
  std::vector<int64_t> offsets;
  for (size_t i = 0; i < text.size(); ++i)
    if ((static_cast<unsigned char>(text[i]) & 0xC0) != 0x80) offsets.push_back(i);
  offsets.push_back(text.size());
  return offsets;
}

}  // namespace

int64_t SquadDataset::num_questions() const {
  int64_t n = 0;
  for (const auto& a : articles)
    for (const auto& p : a.paragraphs) n += p.questions.size();
  return n;
}

SquadDataset read_squad(const std::string& path) {
  json root;
  try {
    root = json::parse(read_text(path));
  } catch (const json::exception& e) {
    throw core::UserError(fmt::format("{}: malformed JSON: {}", path, e.what()));
  }
  using T = json::value_t;
  Fields fields(path);
  SquadDataset dataset;
  if (root.is_object() && root.contains("version") && root["version"].is_string())
    dataset.version = root["version"];
  const json& data = fields.at(root, "top level", "data", T::array);
  for (size_t a = 0; a < data.size(); ++a) {
    const std::string where_a = fmt::format("data[{}]", a);
    SquadArticle article;
    if (data[a].is_object() && data[a].contains("title") && data[a]["title"].is_string())
      article.title = data[a]["title"];
    const json& paragraphs = fields.at(data[a], where_a, "paragraphs", T::array);
    for (size_t p = 0; p < paragraphs.size(); ++p) {
      const std::string where_p = fmt::format("{}.paragraphs[{}]", where_a, p);
      SquadParagraph paragraph;
      paragraph.context = fields.at(paragraphs[p], where_p, "context", T::string);
      const auto offsets = code_point_offsets(paragraph.context);
      const int64_t characters = static_cast<int64_t>(offsets.size()) - 1;
      const json& qas = fields.at(paragraphs[p], where_p, "qas", T::array);
      for (size_t q = 0; q < qas.size(); ++q) {
        const std::string where_q = fmt::format("{}.qas[{}]", where_p, q);
        SquadQuestion question;
        question.id = fields.at(qas[q], where_q, "id", T::string);
        question.question = fields.at(qas[q], where_q, "question", T::string);
        const json& answers = fields.at(qas[q], where_q, "answers", T::array);
        for (size_t k = 0; k < answers.size(); ++k) {
          const std::string where_k = fmt::format("{}.answers[{}]", where_q, k);
          SquadAnswer answer;
          answer.text = fields.at(answers[k], where_k, "text", T::string);
          const int64_t start = fields.at(answers[k], where_k, "answer_start", T::number_integer);
          const int64_t length =
              static_cast<int64_t>(core::utf8_to_code_points(answer.text).size());
          if (start < 0 || start + length > characters)
            throw core::UserError(fmt::format(
                "{}: question {}: answer \"{}\" at character {} runs past the paragraph's {} "
                "characters",
                path, question.id, answer.text, start, characters));
          answer.start = offsets[start];
          const std::string found =
              paragraph.context.substr(answer.start, offsets[start + length] - answer.start);
          if (found != answer.text)
            throw core::UserError(fmt::format(
                "{}: question {}: answer \"{}\" does not match the paragraph at character {} "
                "(found \"{}\")",
                path, question.id, answer.text, start, found));
          question.answers.push_back(std::move(answer));
        }
        paragraph.questions.push_back(std::move(question));
      }
      article.paragraphs.push_back(std::move(paragraph));
    }
    dataset.articles.push_back(std::move(article));
  }
  return dataset;
}

std::pair<SquadDataset, SquadDataset> split_by_article(const SquadDataset& dataset,
                                                       int64_t held_out) {
  const int64_t n = static_cast<int64_t>(dataset.articles.size());
  if (held_out < 1 || held_out >= n)
    throw core::UserError(
        fmt::format("held-out articles must be in [1, {}] for a file of {} articles, got {}", n - 1,
                    n, held_out));
  SquadDataset train{dataset.version, {}}, test{dataset.version, {}};
  train.articles.assign(dataset.articles.begin(), dataset.articles.end() - held_out);
  test.articles.assign(dataset.articles.end() - held_out, dataset.articles.end());
  return {train, test};
}

}  // namespace slimformer::data
