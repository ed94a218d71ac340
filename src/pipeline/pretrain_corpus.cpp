#include "slimformer/pipeline/pretrain_corpus.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <filesystem>

#include "slimformer/core/error.h"
#include "slimformer/data/glue.h"
#include "slimformer/data/text_file.h"
#include "slimformer/pipeline/squad_split.h"
#include "slimformer/tasks/masked_lm_task.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;

namespace {

std::vector<std::string> glue_sentences(const std::string& path) {
  const std::string folder = fs::path(path).parent_path().filename().string();
  const data::TextTask* task = nullptr;
  try {
    task = &data::glue_task(folder);
  } catch (const core::UserError& e) {
    throw core::UserError(fmt::format(
        "{}: a .tsv pre-training file must sit in its GLUE task's folder (SST-2/train.tsv): {}",
        path, e.what()));
  }
  std::vector<std::string> lines;
  for (const auto& example : data::read_text_task(path, *task).examples) {
    lines.push_back(example.text_a);
    if (task->pair()) lines.push_back(example.text_b);
  }
  return lines;
}

std::vector<std::string> squad_passages(const std::string& path) {
  SquadRunOptions options;
  options.file = path;
  std::vector<std::string> lines;
  for (const auto& article : read_squad_split(options).train.articles)
    for (const auto& paragraph : article.paragraphs) lines.push_back(paragraph.context);
  return lines;
}

}  // namespace

std::vector<std::string> read_pretrain_corpus(const std::vector<std::string>& paths) {
  std::vector<std::string> lines;
  for (const auto& path : paths) {
    std::vector<std::string> more;
    if (path.ends_with(".tsv") || path.ends_with(".tsv.gz"))
      more = glue_sentences(path);
    else if (path.ends_with(".json") || path.ends_with(".json.gz"))
      more = squad_passages(path);
    else
      more = data::read_lines(path);
    spdlog::info("corpus: {} lines from {}", more.size(), path);
    lines.insert(lines.end(), std::make_move_iterator(more.begin()),
                 std::make_move_iterator(more.end()));
  }
  return lines;
}

std::vector<data::SegmentPair> masked_lm_pairs(const data::Tokenizer& tokenizer,
                                               const std::vector<std::string>& corpus,
                                               int64_t max_length, uint64_t seed) {
  std::vector<std::vector<int64_t>> lines;
  for (const auto& line : corpus) lines.push_back(tokenizer.encode(line));
  return data::make_segment_pairs(lines, max_length, tasks::MaskedLMTask::special_ids(tokenizer),
                                  seed);
}

}  // namespace slimformer::pipeline
