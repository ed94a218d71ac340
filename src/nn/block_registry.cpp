#include "slimformer/nn/block_registry.h"

#include <fmt/format.h>
#include <fmt/ranges.h>

#include <algorithm>
#include <map>
#include <mutex>

#include "slimformer/core/error.h"
#include "slimformer/nn/attention.h"
#include "slimformer/nn/expression_feed_forward.h"
#include "slimformer/nn/feed_forward.h"
#include "slimformer/nn/linear_attention.h"

namespace slimformer::nn {

namespace {

struct KindEntry {
  BlockRole role;
  BlockFactory factory;
};

// The options every attention kind reads from its spec, checked (the caller calls r.finish()).
AttentionOptions read_attention_options(SpecReader& r, const BlockEnv& env) {
  AttentionOptions o;
  o.embed_dim = env.embed_dim;
  o.cross = env.cross;
  o.causal = env.causal;
  o.dropout = env.dropout;
  o.num_heads = r.get_int("heads", o.num_heads);
  o.num_kv_heads = r.get_int("kv_heads", 0);
  o.head_dim = r.get_int("head_dim", 0);
  o.bias = r.get_bool("bias", o.bias);
  o.rotary_theta = r.get_double("rotary_theta", 0.0);
  if (o.num_heads < 1) r.fail("heads", "must be >= 1");
  if (o.head_dim < 0) r.fail("head_dim", "must be >= 0 (0: width / heads)");
  if (o.head_dim == 0 && o.embed_dim % o.num_heads)
    r.fail("heads", fmt::format("must divide the width {} (or give head_dim)", o.embed_dim));
  if (o.num_kv_heads < 0 || (o.num_kv_heads > 0 && o.num_heads % o.num_kv_heads))
    r.fail("kv_heads", fmt::format("must divide heads {} (0: all)", o.num_heads));
  if (o.rotary_theta < 0) r.fail("rotary_theta", "must be >= 0 (0: no rotary positions)");
  const int64_t head_dim = o.head_dim > 0 ? o.head_dim : o.embed_dim / o.num_heads;
  if (o.rotary_theta > 0 && head_dim % 2) r.fail("rotary_theta", "needs an even head dimension");
  if (o.cross && o.rotary_theta > 0) r.fail("rotary_theta", "must be 0 for cross-attention");
  return o;
}

std::shared_ptr<BlockImpl> build_softmax_attention(const BlockSpec& spec, const BlockEnv& env) {
  SpecReader r(spec, env.where);
  AttentionOptions o = read_attention_options(r, env);
  r.finish();
  return std::make_shared<SoftmaxAttentionImpl>(o);
}

std::shared_ptr<BlockImpl> build_linear_attention(const BlockSpec& spec, const BlockEnv& env) {
  SpecReader r(spec, env.where);
  LinearAttentionOptions o;
  o.attention = read_attention_options(r, env);
  o.feature_map = r.get_string("feature_map", o.feature_map);
  o.feature_dim = r.get_int("feature_dim", o.feature_dim);
  r.finish();
  if (!is_feature_map(o.feature_map))
    r.fail("feature_map", fmt::format("must be one of {}", fmt::join(feature_map_names(), ", ")));
  if (o.feature_dim < 1) r.fail("feature_dim", "must be >= 1");
  if (o.feature_map == "rfa" && o.feature_dim < 2)
    r.fail("feature_dim", "must be >= 2 for rfa (a sine and a cosine per random direction)");
  return std::make_shared<LinearAttentionImpl>(o);
}

std::shared_ptr<BlockImpl> build_feed_forward(const BlockSpec& spec, const BlockEnv& env) {
  SpecReader r(spec, env.where);
  FeedForwardOptions o;
  o.embed_dim = env.embed_dim;
  o.dropout = env.dropout;
  o.hidden_dim = r.get_int("hidden_dim", o.hidden_dim);
  o.activation = r.get_string("activation", o.activation);
  o.gated = r.get_bool("gated", o.gated);
  o.bias = r.get_bool("bias", o.bias);
  r.finish();
  if (o.hidden_dim < 1) r.fail("hidden_dim", "must be >= 1");
  if (!is_activation(o.activation))
    r.fail("activation", fmt::format("must be one of {}", fmt::join(activation_names(), ", ")));
  return std::make_shared<FeedForwardImpl>(o);
}

std::shared_ptr<BlockImpl> build_expression_feed_forward(const BlockSpec& spec,
                                                        const BlockEnv& env) {
  SpecReader r(spec, env.where);
  ExpressionFeedForwardOptions o;
  o.embed_dim = env.embed_dim;
  o.dropout = env.dropout;
  const std::string text = r.get_string("expression", "");
  o.bias = r.get_bool("bias", o.bias);
  o.norm_eps = r.get_double("norm_eps", o.norm_eps);
  r.finish();
  if (text.empty()) r.fail("expression", "must be given, e.g. linear1_2(gelu(linear1_2(x,wb1)),wb2)");
  try {
    o.expression = FfnExpression::parse(text);
  } catch (const std::invalid_argument& e) {
    r.fail("expression", fmt::format("must be a valid expression ({})", e.what()));
  }
  if (const auto rule = o.expression.violation(); !rule.empty())
    r.fail("expression", fmt::format("must follow the search space's rules ({})", rule));
  if (o.norm_eps <= 0) r.fail("norm_eps", "must be > 0");
  return std::make_shared<ExpressionFeedForwardImpl>(o);
}

std::mutex& registry_mutex() {
  static std::mutex mutex;
  return mutex;
}

std::map<std::string, KindEntry>& registry() {
  static std::map<std::string, KindEntry> kinds = {
      {"softmax_attention", {BlockRole::kAttention, build_softmax_attention}},
      {"linear_attention", {BlockRole::kAttention, build_linear_attention}},
      {"ffn", {BlockRole::kFeedForward, build_feed_forward}},
      {"ffn_expression", {BlockRole::kFeedForward, build_expression_feed_forward}},
  };
  return kinds;
}

const char* role_name(BlockRole role) {
  return role == BlockRole::kAttention ? "an attention block" : "a feed-forward block";
}

KindEntry find_kind(const std::string& kind, const std::string& where) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  auto it = registry().find(kind);
  if (it == registry().end()) {
    std::vector<std::string> known;
    for (const auto& [name, entry] : registry()) known.push_back(name);
    throw core::UserError(
        fmt::format("{}: unknown block kind {} (known: {})", where, kind, fmt::join(known, ", ")));
  }
  return it->second;
}

}  // namespace

void register_block_kind(const std::string& kind, BlockRole role, BlockFactory factory) {
  std::lock_guard<std::mutex> lock(registry_mutex());
  registry()[kind] = {role, std::move(factory)};
}

std::vector<std::string> block_kinds() {
  std::lock_guard<std::mutex> lock(registry_mutex());
  std::vector<std::string> out;
  for (const auto& [name, entry] : registry()) out.push_back(name);
  return out;
}

BlockRole block_role(const std::string& kind, const std::string& where) {
  return find_kind(kind, where).role;
}

std::shared_ptr<BlockImpl> build_block(const BlockSpec& spec, BlockRole role, const BlockEnv& env) {
  const KindEntry entry = find_kind(spec.kind, env.where);
  if (entry.role != role)
    throw core::UserError(fmt::format("{}: kind {} is {}, and this place needs {}", env.where,
                                      spec.kind, role_name(entry.role), role_name(role)));
  return entry.factory(spec, env);
}

SpecReader::SpecReader(const BlockSpec& spec, std::string where)
    : spec_(spec), where_(std::move(where)) {
  if (!spec.options.is_object())
    throw core::UserError(fmt::format("{}: block options must be an object", where_));
}

const nlohmann::json& SpecReader::value(const std::string& key) {
  read_.push_back(key);
  return spec_.options.at(key);
}

void SpecReader::fail(const std::string& key, const std::string& expectation) const {
  const auto given = spec_.options.contains(key) ? spec_.options.at(key).dump() : "nothing";
  throw core::UserError(fmt::format("{}.{} {}, got {}", where_, key, expectation, given));
}

int64_t SpecReader::get_int(const std::string& key, int64_t fallback) {
  if (!spec_.options.contains(key)) return read_.push_back(key), fallback;
  const auto& v = value(key);
  if (!v.is_number_integer()) fail(key, "must be an integer");
  return v.get<int64_t>();
}

double SpecReader::get_double(const std::string& key, double fallback) {
  if (!spec_.options.contains(key)) return read_.push_back(key), fallback;
  const auto& v = value(key);
  if (!v.is_number()) fail(key, "must be a number");
  return v.get<double>();
}

bool SpecReader::get_bool(const std::string& key, bool fallback) {
  if (!spec_.options.contains(key)) return read_.push_back(key), fallback;
  const auto& v = value(key);
  if (!v.is_boolean()) fail(key, "must be true or false");
  return v.get<bool>();
}

std::string SpecReader::get_string(const std::string& key, const std::string& fallback) {
  if (!spec_.options.contains(key)) return read_.push_back(key), fallback;
  const auto& v = value(key);
  if (!v.is_string()) fail(key, "must be a string");
  return v.get<std::string>();
}

void SpecReader::finish() const {
  for (const auto& [key, v] : spec_.options.items())
    if (std::find(read_.begin(), read_.end(), key) == read_.end())
      throw core::UserError(fmt::format("{}: kind {} has no option {}", where_, spec_.kind, key));
}

}  // namespace slimformer::nn
