#include "slimformer/pipeline/qa_service.h"

#include <fmt/format.h>

#include <chrono>

#include "slimformer/core/checksum.h"
#include "slimformer/eval/squad_predict.h"
#include "slimformer/methods/decompose/decompose.h"
#include "slimformer/pipeline/evaluation.h"

namespace slimformer::pipeline {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

using Clock = std::chrono::steady_clock;

double milliseconds_since(Clock::time_point start) {
  return std::chrono::duration<double, std::milli>(Clock::now() - start).count();
}

// The windows of one question about one passage.
data::SquadFeatures question_features(const std::string& question, const std::string& passage,
                                      const data::Tokenizer& tokenizer,
                                      const data::SquadWindowOptions& windows) {
  data::SquadDataset dataset;
  dataset.articles.push_back({"", {{passage, {{"question", question, {}}}}}});
  return data::make_squad_windows(dataset, tokenizer, windows);
}

// Rows of token lists as one tensor [rows, longest], padded at the end.
torch::Tensor padded_tokens(const std::vector<std::vector<int64_t>>& rows, int64_t pad) {
  int64_t longest = 0;
  for (const auto& r : rows) longest = std::max<int64_t>(longest, int64_t(r.size()));
  torch::Tensor out = torch::full({int64_t(rows.size()), longest}, pad, torch::kInt64);
  for (size_t i = 0; i < rows.size(); ++i)
    if (!rows[i].empty())
      out[int64_t(i)].narrow(0, 0, int64_t(rows[i].size()))
          .copy_(torch::tensor(rows[i], torch::kInt64));
  return out;
}

// Token counts of an answer's windows (what the FLOP ratio of the split needs).
void count_tokens(const data::SquadFeatures& features, QaAnswer& out) {
  out.windows = int64_t(features.windows.size());
  if (features.windows.empty()) return;
  out.question_tokens = features.windows[0].input_offset;
  for (const auto& w : features.windows)
    out.passage_tokens += int64_t(w.input.tokens.size()) - w.input_offset;
}

// The best span over a question's windows from their logits [W, T]; `shift` is where the first
// window's passage sits in the logits minus its input_offset (0 for the joint input).
QaAnswer best_answer(const data::SquadFeatures& features, const models::SpanLogits& logits,
                     int64_t shift, const data::Tokenizer& tokenizer, int64_t max_answer_length,
                     QaAnswer out) {
  torch::Tensor s = logits.start.to(torch::kCPU, torch::kFloat32).contiguous();
  torch::Tensor e = logits.end.to(torch::kCPU, torch::kFloat32).contiguous();
  eval::SpanChoice best;
  for (size_t i = 0; i < features.windows.size(); ++i)
    eval::choose_span(features.windows[i], s[int64_t(i)].data_ptr<float>() + shift,
                      e[int64_t(i)].data_ptr<float>() + shift, max_answer_length, best);
  if (best.first >= 0) {
    out.text = data::answer_text(features.passages[0], tokenizer, best.first, best.last);
    out.score = best.score;
  }
  return out;
}

}  // namespace

json CacheReport::to_json() const {
  return {{"passages", passages},       {"windows", windows},       {"tokens", tokens},
          {"entry_bytes", entry_bytes}, {"file_bytes", file_bytes}, {"seconds", seconds},
          {"dtype", dtype},
          {"bytes_per_passage", passages ? double(file_bytes) / double(passages) : 0.0}};
}

QaService::QaService(const fs::path& model_dir, const fs::path& cache_dir,
                     const fs::path& passages_file, torch::Device device)
    : loaded_(train::load_model(model_dir, device)),
      model_name_(model_dir.string()),
      device_(device) {
  model_ = require_family<models::EncoderModelImpl>(
               loaded_, "answering questions needs a span-QA encoder", model_name_)
               .get();
  if (model_->config().encoder_head != "span")
    throw core::UserError(fmt::format(
        "answering questions needs a span-QA encoder; {} has a {} head (fine-tune it with "
        "finetune --squad)",
        model_name_, model_->config().encoder_head));
  model_->eval();
  options_ = squad_options_of_run(loaded_.record, model_->config());
  options_.windows.question_independent = true;
  fingerprint_ = core::fingerprint(model_->state());
  if (!passages_file.empty())
    for (auto& p : data::read_passages(passages_file.string())) {
      ids_.push_back(p.id);
      given_[p.id] = std::move(p.text);
    }
  if (!cache_dir.empty()) {
    cache_ = std::make_unique<methods::PassageCache>(cache_dir);
    cache_->require(cache_identity(), model_name_);
    if (ids_.empty()) ids_ = cache_->ids();
  }
}

QaService::~QaService() = default;

methods::CacheIdentity QaService::cache_identity() const {
  methods::CacheIdentity id;
  id.model_fingerprint = fingerprint_;
  id.separate_layers = model_->config().separate_layers;
  id.d_model = model_->config().d_model;
  id.max_length = options_.windows.max_length;
  id.doc_stride = options_.windows.doc_stride;
  id.max_query_length = options_.windows.max_query_length;
  id.passage_start = methods::passage_start(options_.windows.max_query_length);
  return id;
}

json QaService::describe() const {
  json out = {{"model", model_name_},
              {"layers", model_->config().encoder_layers},
              {"separate_layers", model_->config().separate_layers},
              {"d_model", model_->config().d_model},
              {"ffn_dim", model_->config().encoder_ffn_dim},
              {"fingerprint", fingerprint_},
              {"passages", ids_.size()},
              {"cache", cache_ ? cache_->record() : json(nullptr)}};
  return out;
}

std::string QaService::passage_text(const std::string& id) const {
  if (auto it = given_.find(id); it != given_.end()) return it->second;
  if (cache_)
    if (auto cached = cache_->get(id)) return cached->text;
  throw UnknownPassage(fmt::format("unknown passage id '{}'", id));
}

methods::CachedPassage QaService::passage_states(const data::Passage& passage) {
  if (model_->config().separate_layers == 0)
    throw core::UserError(fmt::format(
        "{} is not decomposed (separate_layers 0): nothing of a passage can be cached; run "
        "slimformer decompose first",
        model_name_));
  std::lock_guard<std::mutex> lock(mutex_);
  c10::InferenceMode inference;
  const auto split = data::split_passage(passage.text, *loaded_.tokenizer);
  const auto spans =
      data::passage_windows(int64_t(split.tokens.size()),
                            data::passage_room(options_.windows, 0), options_.windows.doc_stride);
  methods::CachedPassage out{passage.id, passage.text, {}};
  std::vector<std::vector<int64_t>> rows;
  for (auto [start, length] : spans) {
    methods::CachedWindow w;
    w.passage_offset = start;
    w.length = length;
    w.tokens.assign(split.tokens.begin() + start, split.tokens.begin() + start + length);
    w.tokens.push_back(loaded_.tokenizer->eos_id());
    rows.push_back(w.tokens);
    out.windows.push_back(std::move(w));
  }
  if (rows.empty()) return out;
  torch::Tensor states = methods::segment_states(
      *model_, padded_tokens(rows, model_->config().pad_token_id).to(device_), 1,
      methods::passage_start(options_.windows.max_query_length));
  for (size_t i = 0; i < rows.size(); ++i)
    out.windows[i].states =
        states[int64_t(i)].narrow(0, 0, int64_t(rows[i].size())).to(torch::kCPU).clone();
  return out;
}

QaAnswer QaService::answer_uncached_locked(const std::string& question,
                                           const std::string& passage) {
  const auto start = Clock::now();
  c10::InferenceMode inference;
  auto features = question_features(question, passage, *loaded_.tokenizer, options_.windows);
  QaAnswer out;
  count_tokens(features, out);
  if (features.windows.empty()) return out;
  std::vector<int64_t> all(features.windows.size());
  for (size_t i = 0; i < all.size(); ++i) all[i] = int64_t(i);
  out = best_answer(features, eval::window_logits(*model_, features, all, device_), 0,
                    *loaded_.tokenizer, options_.max_answer_length, out);
  out.milliseconds = milliseconds_since(start);
  return out;
}

QaAnswer QaService::answer_cached_locked(const std::string& question,
                                         const methods::CachedPassage& cached) {
  const auto start = Clock::now();
  c10::InferenceMode inference;
  auto features = question_features(question, cached.text, *loaded_.tokenizer, options_.windows);
  const auto& windows = features.windows;
  bool same = windows.size() == cached.windows.size();
  for (size_t i = 0; same && i < windows.size(); ++i) {
    const auto& w = windows[i];
    const auto& c = cached.windows[i];
    same = w.passage_offset == c.passage_offset && w.length == c.length &&
           std::equal(c.tokens.begin(), c.tokens.end(), w.input.tokens.begin() + w.input_offset,
                      w.input.tokens.end());
  }
  if (!same)
    throw core::UserError(fmt::format(
        "the cached windows of passage '{}' do not match this model's tokenization; build the "
        "cache again",
        cached.id));
  QaAnswer out;
  out.cached = true;
  count_tokens(features, out);
  if (windows.empty()) return out;
  const int64_t pad = model_->config().pad_token_id;
  std::vector<int64_t> query(windows[0].input.tokens.begin(),
                             windows[0].input.tokens.begin() + windows[0].input_offset);
  // Absolute positions: the passage must sit where its states were computed.
  if (!methods::position_invariant(model_->config()))
    query.resize(methods::passage_start(options_.windows.max_query_length), pad);
  torch::Tensor question_tokens = padded_tokens({query}, pad).to(device_);
  torch::Tensor question_states = methods::segment_states(*model_, question_tokens, 0, 0);
  std::vector<std::vector<int64_t>> rows;
  int64_t longest = 0;
  for (const auto& c : cached.windows) {
    rows.push_back(c.tokens);
    longest = std::max<int64_t>(longest, int64_t(c.tokens.size()));
  }
  torch::Tensor passage_states =
      torch::zeros({int64_t(rows.size()), longest, model_->config().d_model});
  for (size_t i = 0; i < rows.size(); ++i)
    passage_states[int64_t(i)].narrow(0, 0, int64_t(rows[i].size())).copy_(cached.windows[i].states);
  auto logits = methods::joined_span_logits(*model_, question_tokens, question_states,
                                            padded_tokens(rows, pad).to(device_),
                                            passage_states.to(device_));
  // Every window's passage starts after the joined question segment, not at its input_offset
  // (the same for all windows of one question).
  out = best_answer(features, logits, int64_t(query.size()) - windows[0].input_offset,
                    *loaded_.tokenizer, options_.max_answer_length, out);
  out.milliseconds = milliseconds_since(start);
  return out;
}

QaAnswer QaService::answer_text(const std::string& question, const std::string& passage) {
  std::lock_guard<std::mutex> lock(mutex_);
  return answer_uncached_locked(question, passage);
}

QaAnswer QaService::answer_by_id_uncached(const std::string& question,
                                          const std::string& passage_id) {
  const std::string text = passage_text(passage_id);
  std::lock_guard<std::mutex> lock(mutex_);
  return answer_uncached_locked(question, text);
}

QaAnswer QaService::answer_by_id(const std::string& question, const std::string& passage_id) {
  if (!cache_) return answer_by_id_uncached(question, passage_id);
  const auto start = Clock::now();
  auto cached = cache_->get(passage_id);
  if (!cached) throw UnknownPassage(fmt::format("unknown passage id '{}'", passage_id));
  std::lock_guard<std::mutex> lock(mutex_);
  QaAnswer out = answer_cached_locked(question, *cached);
  out.milliseconds = milliseconds_since(start);
  return out;
}

CacheReport build_passage_cache(const CacheBuildOptions& o) {
  const auto start = Clock::now();
  QaService service(o.model_dir, {}, {}, o.device);
  const auto passages = data::read_passages(o.passages_file.string());
  // Refuses a model that is not decomposed before anything is written.
  service.passage_states({"", ""});
  CacheReport report;
  report.dtype = o.float16 ? "float16" : "float32";
  methods::PassageCacheWriter writer(o.output, service.cache_identity(),
                                     o.float16 ? torch::kFloat16 : torch::kFloat32);
  for (const auto& p : passages) {
    auto states = service.passage_states(p);
    for (const auto& w : states.windows) report.tokens += int64_t(w.tokens.size());
    report.windows += int64_t(states.windows.size());
    const std::string bytes = methods::encode_passage(states, o.float16 ? torch::kFloat16
                                                                          : torch::kFloat32);
    report.entry_bytes += int64_t(bytes.size());
    writer.put_bytes(p.id, bytes);
    ++report.passages;
    if (o.progress) o.progress(report.passages, int64_t(passages.size()));
  }
  writer.finish();
  report.file_bytes = int64_t(fs::file_size(o.output / "data.mdb"));
  report.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  return report;
}

}  // namespace slimformer::pipeline
