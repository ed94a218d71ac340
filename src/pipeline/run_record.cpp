#include "slimformer/pipeline/run_record.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <functional>

#include "slimformer/core/json_fields.h"
#include "slimformer/core/text_list.h"
#include "slimformer/data/glue.h"

namespace slimformer::pipeline {

using json = nlohmann::json;
using core::field_or;
using core::object_member;

namespace {

// The squad_options_json form of what the finetune command's options held, for checkpoints from
// before the task record.
json options_of_command(const json& record) {
  const auto options = object_member(record, "options");
  const auto data = object_member(options, "data");
  const auto task = object_member(options, "task");
  json out = json::object();
  for (const auto& [from, to] : {std::pair{"squad_file", "file"},
                                 {"squad_held_out", "held_out_articles"},
                                 {"squad_valid_articles", "valid_articles"},
                                 {"max_length", "max_length"},
                                 {"doc_stride", "doc_stride"},
                                 {"max_query_length", "max_query_length"}})
    if (data.contains(from)) out[to] = data.at(from);
  if (task.contains("max_answer_length")) out["max_answer_length"] = task.at("max_answer_length");
  return out;
}

}  // namespace

json squad_options_json(const SquadRunOptions& o) {
  return {{"file", o.file},
          {"held_out_articles", o.held_out_articles},
          {"valid_articles", o.valid_articles},
          {"max_length", o.windows.max_length},
          {"doc_stride", o.windows.doc_stride},
          {"max_query_length", o.windows.max_query_length},
          {"question_independent", o.windows.question_independent},
          {"max_answer_length", o.max_answer_length}};
}

SquadRunOptions squad_options_of_run(const json& record, const models::TransformerConfig& model,
                                     const std::string& source) {
  SquadRunOptions o;
  o.windows.max_length = model.max_position_embeddings;
  auto recorded = object_member(object_member(record, "task"), "squad");
  std::string where = fmt::format("{} task.squad", source);
  if (recorded.empty()) {
    recorded = options_of_command(record);
    where = fmt::format("{} options", source);
  }
  o.file = field_or(recorded, "file", o.file, where);
  o.held_out_articles = field_or(recorded, "held_out_articles", o.held_out_articles, where);
  o.valid_articles = field_or(recorded, "valid_articles", o.valid_articles, where);
  o.windows.max_length = std::min(field_or(recorded, "max_length", o.windows.max_length, where),
                                  model.max_position_embeddings);
  o.windows.doc_stride = field_or(recorded, "doc_stride", o.windows.doc_stride, where);
  o.windows.max_query_length =
      field_or(recorded, "max_query_length", o.windows.max_query_length, where);
  o.windows.question_independent =
      field_or(recorded, "question_independent", o.windows.question_independent, where);
  o.max_answer_length = field_or(recorded, "max_answer_length", o.max_answer_length, where);
  return o;
}

std::string RecordedTextTask::split_file(const std::string& split,
                                         const std::string& glue_dir) const {
  if (task && glue) return data::glue_file(glue_dir, *task, split);
  return split == "train" ? train_file : split == "dev" ? dev_file : std::string();
}

RecordedTextTask recorded_text_task(const json& record, const std::string& source) {
  RecordedTextTask out;
  // The fine-tuning run's task record, or (older checkpoints) the finetune command's options.
  for (const auto& [task, where] :
       {std::pair{object_member(record, "task"), fmt::format("{} task", source)},
        std::pair{object_member(object_member(record, "options"), "task"),
                  fmt::format("{} options.task", source)}}) {
    const std::string glue = field_or(task, "glue", std::string(), where);
    if (task.contains("text"))
      out.task = data::TextTask::from_json(task.at("text"), where + ".text");
    else if (!glue.empty())
      out.task = data::glue_task(glue);
    else
      continue;
    out.glue = !glue.empty();
    out.train_file = field_or(task, "train_file", std::string(), where);
    out.dev_file = field_or(task, "dev_file", std::string(), where);
    return out;
  }
  return out;
}

json text_task_record(const data::TextTask& task, const std::string& train_file,
                      const std::string& dev_file) {
  json record = {{"text", task.to_json()}, {"train_file", train_file}, {"dev_file", dev_file}};
  if (data::is_glue_task(task.name) && task.to_json() == data::glue_task(task.name).to_json())
    record["glue"] = task.name;
  return record;
}

RecordedMaskedLMText recorded_masked_lm_text(const json& record, const std::string& source) {
  RecordedMaskedLMText out;
  const auto options = object_member(record, "options");
  const auto data = object_member(options, "data");
  const std::string where = fmt::format("{} options.data", source);
  // A list, or the comma-separated text the command line gave.
  if (data.contains("train_text") && data.at("train_text").is_string())
    out.files = core::split_commas(data.at("train_text").get<std::string>());
  else
    out.files = field_or(data, "train_text", out.files, where);
  if (data.contains("valid_pairs"))
    out.valid_pairs = field_or<int64_t>(data, "valid_pairs", 0, where);
  out.max_length = field_or(data, "max_length", out.max_length, where);
  out.max_tokens = field_or(object_member(options, "train"), "max_tokens", out.max_tokens,
                            fmt::format("{} options.train", source));
  return out;
}

std::vector<std::string> chain_labels(const json& record, const std::string& source) {
  std::vector<std::string> labels;
  if (!record.is_object() || !record.contains("compression_chain")) return labels;
  const json& chain = record.at("compression_chain");
  if (!chain.is_array())
    throw core::UserError(fmt::format("{}: compression_chain must be a list", source));
  for (const auto& entry : chain) {
    const std::string where = fmt::format("{} compression_chain", source);
    if (!entry.is_object())
      throw core::UserError(fmt::format("{}: every step must be an object", where));
    std::vector<std::string> options;
    const json flat = flatten_options(object_member(entry, "options"));
    for (const auto& [key, value] : flat.items())
      options.push_back(fmt::format("{} {}", key.substr(key.rfind('.') + 1),
                                    value.is_string() ? value.get<std::string>() : value.dump()));
    const std::string command = field_or(entry, "command", std::string("?"), where);
    labels.push_back(options.empty() ? command
                                     : fmt::format("{} ({})", command, fmt::join(options, ", ")));
  }
  return labels;
}

json flatten_options(const json& nested) {
  json flat = json::object();
  std::function<void(const json&, const std::string&)> walk = [&](const json& node,
                                                                  const std::string& prefix) {
    for (const auto& [key, value] : node.items()) {
      std::string name = prefix.empty() ? key : prefix + "." + key;
      std::replace(name.begin(), name.end(), '-', '_');
      if (value.is_object())
        walk(value, name);
      else
        flat[name] = value;
    }
  };
  walk(nested, "");
  return flat;
}

}  // namespace slimformer::pipeline
