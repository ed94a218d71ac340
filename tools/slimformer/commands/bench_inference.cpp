// slimformer bench translate / bench generate: decoding speed of one model on real text, one JSON
// line per run, beside a peer implementation (bench/peers/decode.py) that decodes the very same
// batches. The command writes the batches it decodes (--plan, token ids per batch and each batch's
// length limit) and the ids it produces (--output-ids), so that the peer's work is identical and
// its outputs can be compared token for token.
#include <fmt/format.h>

#include <algorithm>
#include <chrono>
#include <fstream>
#include <iostream>
#include <tuple>

#include "commands.h"
#include "options.h"
#include "slimformer/core/error.h"
#include "slimformer/core/runtime.h"
#include "slimformer/data/text_file.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/eval/generation.h"
#include "slimformer/pipeline/evaluation.h"
#include "slimformer/train/checkpoint.h"

namespace slimformer::tools {

namespace {

using Clock = std::chrono::steady_clock;

double seconds_since(Clock::time_point start) {
  return std::chrono::duration<double>(Clock::now() - start).count();
}

// The q-quantile of `values` (nearest rank).
double quantile(std::vector<double> values, double q) {
  if (values.empty()) return 0;
  std::sort(values.begin(), values.end());
  const auto rank = static_cast<size_t>(std::ceil(q * double(values.size())));
  return values[std::min(values.size() - 1, rank == 0 ? 0 : rank - 1)];
}

struct InferenceBenchOptions {
  std::string model, input, plan, output_ids;
  int64_t limit = 0;           // sentences or prompts (0: all)
  int64_t beam = 1;            // beam size
  bool one_at_a_time = false;  // translate: batches of one sentence, else of --max-tokens
  int64_t max_tokens = 4000;   // translate
  int64_t prompt_words = 8;    // generate: the prompt is a line's first words
  int64_t new_tokens = 64;     // generate
  int64_t warmup = 1;          // untimed batches first
};

void write_ids(std::ostream& out, const std::vector<int64_t>& ids) {
  for (size_t i = 0; i < ids.size(); ++i) out << (i ? " " : "") << ids[i];
  out << "\n";
}

std::ofstream open_output(const std::string& path, const char* option) {
  std::ofstream out(path);
  if (!out) throw core::UserError(fmt::format("{} {}: cannot write", option, path));
  return out;
}

std::vector<std::string> read_lines(const std::string& path, int64_t limit) {
  auto lines = data::read_lines(path);
  if (lines.empty()) throw core::UserError(fmt::format("--input {}: no lines", path));
  if (limit > 0 && int64_t(lines.size()) > limit) lines.resize(limit);
  return lines;
}

nlohmann::json summary(const std::string& bench, double load_seconds, double seconds,
                       int64_t sequences, int64_t tokens, const std::vector<double>& latencies) {
  return {{"bench", bench},
          {"impl", "slimformer"},
          {"load_seconds", load_seconds},
          {"seconds", seconds},
          {"sequences", sequences},
          {"output_tokens", tokens},
          {"tokens_per_second", double(tokens) / seconds},
          {"sequences_per_second", double(sequences) / seconds},
          {"batch_latency_ms_p50", 1000 * quantile(latencies, 0.5)},
          {"batch_latency_ms_p90", 1000 * quantile(latencies, 0.9)},
          {"intra_op_threads", core::runtime_info().intra_op_threads}};
}

// A model loaded and timed, refused unless of the family `Impl`.
template <typename Impl>
std::tuple<train::LoadedModel, double, std::shared_ptr<Impl>> load_timed(
    const std::string& dir, const torch::Device& device, const std::string& refusal) {
  auto start = Clock::now();
  train::LoadedModel loaded = train::load_model(dir, device);
  const double seconds = seconds_since(start);
  auto model = pipeline::require_family<Impl>(loaded, refusal, dir);
  return {std::move(loaded), seconds, std::move(model)};
}

void bench_translate(const InferenceBenchOptions& o, const torch::Device& device) {
  auto [loaded, load_seconds, model] = load_timed<models::Seq2SeqTransformerImpl>(
      o.model, device, "bench translate needs a translation model");
  const auto& vocab = dynamic_cast<const data::Vocab&>(*loaded.tokenizer);
  eval::DecodeOptions decode;
  decode.beam_size = o.beam;
  decode.max_tokens = o.one_at_a_time ? 1 : o.max_tokens;  // a batch holds at least one
  auto batches =
      eval::prepare_source_batches(*model, vocab, read_lines(o.input, o.limit), decode, device);
  model->eval();
  if (!o.plan.empty()) {
    auto out = open_output(o.plan, "--plan");
    nlohmann::json plan = {{"beam", o.beam}, {"length_penalty", decode.length_penalty}};
    for (size_t b = 0; b < batches.src.size(); ++b) {
      torch::Tensor src = batches.src[b].to(torch::kCPU).contiguous();
      std::vector<std::vector<int64_t>> rows;
      for (int64_t r = 0; r < src.size(0); ++r)
        rows.emplace_back(src[r].data_ptr<int64_t>(), src[r].data_ptr<int64_t>() + src.size(1));
      plan["batches"].push_back({{"src", rows}, {"max_length", batches.max_length[b]}});
    }
    out << plan.dump() << "\n";
  }
  auto decode_batch = [&](size_t b) {
    return eval::beam_search(*model, batches.src[b], batches.max_length[b], o.beam,
                             decode.length_penalty);
  };
  for (int64_t w = 0; w < std::min<int64_t>(o.warmup, batches.src.size()); ++w) decode_batch(w);
  std::vector<std::vector<std::vector<int64_t>>> outputs;
  std::vector<double> latencies;
  int64_t tokens = 0;
  auto start = Clock::now();
  for (size_t b = 0; b < batches.src.size(); ++b) {
    auto batch_start = Clock::now();
    outputs.push_back(decode_batch(b));
    latencies.push_back(seconds_since(batch_start));
    for (const auto& hyp : outputs.back()) tokens += int64_t(hyp.size()) + 1;  // with </s>
  }
  const double seconds = seconds_since(start);
  if (!o.output_ids.empty()) {
    auto out = open_output(o.output_ids, "--output-ids");
    for (const auto& batch : outputs)
      for (const auto& hyp : batch) write_ids(out, hyp);
  }
  auto line =
      summary("translate", load_seconds, seconds, int64_t(batches.lines), tokens, latencies);
  line["beam"] = o.beam;
  line["batches"] = batches.src.size();
  std::cout << line.dump() << std::endl;
}

void bench_generate(const InferenceBenchOptions& o, const torch::Device& device) {
  auto [loaded, load_seconds, model] = load_timed<models::CausalLMImpl>(
      o.model, device, "bench generate needs a causal language model");
  const auto& tokenizer = *loaded.tokenizer;
  std::vector<std::vector<int64_t>> prompts;
  for (const auto& line : read_lines(o.input, o.limit)) {
    std::istringstream words(line);
    std::string word, text;
    for (int64_t i = 0; i < o.prompt_words && words >> word; ++i) text += (i ? " " : "") + word;
    std::vector<int64_t> ids = {tokenizer.bos_id()};
    for (int64_t id : tokenizer.encode(text)) ids.push_back(id);
    prompts.push_back(std::move(ids));
  }
  eval::GenerateOptions generate;
  generate.max_new_tokens = o.new_tokens;  // no stop token: every prompt the same work
  generate.beam_size = o.beam;
  if (!o.plan.empty()) {
    auto out = open_output(o.plan, "--plan");
    nlohmann::json plan = {{"new_tokens", o.new_tokens},
                           {"beam", o.beam},
                           {"length_penalty", generate.length_penalty}};
    for (const auto& p : prompts) plan["batches"].push_back({{"src", {p}}});
    out << plan.dump() << "\n";
  }
  for (int64_t w = 0; w < std::min<int64_t>(o.warmup, prompts.size()); ++w)
    eval::generate(*model, prompts[w], generate);
  std::vector<std::vector<int64_t>> outputs;
  std::vector<double> latencies;
  int64_t tokens = 0;
  auto start = Clock::now();
  for (const auto& prompt : prompts) {
    auto prompt_start = Clock::now();
    outputs.push_back(eval::generate(*model, prompt, generate));
    latencies.push_back(seconds_since(prompt_start));
    tokens += int64_t(outputs.back().size());
  }
  const double seconds = seconds_since(start);
  if (!o.output_ids.empty()) {
    auto out = open_output(o.output_ids, "--output-ids");
    for (const auto& ids : outputs) write_ids(out, ids);
  }
  auto line =
      summary("generate", load_seconds, seconds, int64_t(prompts.size()), tokens, latencies);
  line["beam"] = o.beam;
  std::cout << line.dump() << std::endl;
}

void add_shared_options(CLI::App* cmd, InferenceBenchOptions& o, const std::string& input) {
  o.input = input;
  cmd->add_option("model", o.model, "checkpoint directory")->required();
  cmd->add_option("--input", o.input, "text file (plain or .gz), a sequence per line")
      ->capture_default_str();
  cmd->add_option("--limit", o.limit, "first N lines only (0: all)")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
  cmd->add_option("--plan", o.plan, "write the decoded batches (token ids) here, as JSON");
  cmd->add_option("--output-ids", o.output_ids, "write the output token ids here, a line each");
  cmd->add_option("--warmup", o.warmup, "untimed batches first")
      ->capture_default_str()
      ->check(CLI::NonNegativeNumber);
}

}  // namespace

void add_bench_inference(CLI::App* bench) {
  auto common = std::make_shared<CommonOptions>();
  auto t = std::make_shared<InferenceBenchOptions>();
  auto* translate = bench->add_subcommand(
      "translate", "decoding speed of a translation model: tokens/s, sentences/s, latency");
  add_shared_options(translate, *t, "data/multi30k/test_2016_flickr.en.gz");
  translate->add_option("--beam", t->beam, "beam size (1: greedy)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  translate->add_flag(
      "--one-at-a-time", t->one_at_a_time,
      "decode one sentence at a time (latency) rather than batches of --max-tokens");
  translate->add_option("--max-tokens", t->max_tokens, "tokens per batch (as translate)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  common->add_to(translate);
  add_recipe_flags(translate);
  translate->callback([=] {
    common->apply();
    bench_translate(*t, core::parse_device(common->device));
  });

  auto g = std::make_shared<InferenceBenchOptions>();
  auto* gen = bench->add_subcommand(
      "generate", "generation speed of a causal LM (greedy or beam), one prompt at a time");
  add_shared_options(gen, *g, "data/simple-english/alice-one-syllable.txt");
  gen->add_option("--prompt-words", g->prompt_words, "a prompt is a line's first N words")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  gen->add_option("--new-tokens", g->new_tokens, "tokens generated per prompt")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  gen->add_option("--beam", g->beam, "beam size (1: greedy)")
      ->capture_default_str()
      ->check(CLI::PositiveNumber);
  common->add_to(gen);
  add_recipe_flags(gen);
  gen->callback([=] {
    common->apply();
    bench_generate(*g, core::parse_device(common->device));
  });
}

}  // namespace slimformer::tools
