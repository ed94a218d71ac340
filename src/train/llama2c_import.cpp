#include "slimformer/train/llama2c_import.h"

#include <fmt/format.h>

#include <cstring>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::train {

namespace {

constexpr uint32_t kVersionedMagic = 0x616b3432;  // "ak42": llama2.c export versions 1 and 2

struct Header {
  int32_t dim, hidden_dim, n_layers, n_heads, n_kv_heads, vocab_size, seq_len;
};

void check_header(const Header& h, const std::string& path) {
  auto fail = [&](const char* field, int64_t value, const std::string& expectation) {
    throw core::UserError(
        fmt::format("{}: header field {} is {}; expected {}", path, field, value, expectation));
  };
  if (h.dim < 2 || h.dim > 65536) fail("dim", h.dim, "in [2, 65536]");
  if (h.hidden_dim < 1 || h.hidden_dim > 1 << 20) fail("hidden_dim", h.hidden_dim, "in [1, 2^20]");
  if (h.n_layers < 1 || h.n_layers > 1024) fail("n_layers", h.n_layers, "in [1, 1024]");
  if (h.n_heads < 1 || h.dim % h.n_heads || (h.dim / h.n_heads) % 2)
    fail("n_heads", h.n_heads, fmt::format("to divide dim {} into even head sizes", h.dim));
  if (h.n_kv_heads < 1 || h.n_heads % h.n_kv_heads)
    fail("n_kv_heads", h.n_kv_heads, fmt::format("to divide n_heads {}", h.n_heads));
  if (std::abs(int64_t{h.vocab_size}) < 4 || std::abs(int64_t{h.vocab_size}) > 1 << 22)
    fail("vocab_size", h.vocab_size, "|vocab_size| in [4, 2^22]");
  if (h.seq_len < 1 || h.seq_len > 1 << 20) fail("seq_len", h.seq_len, "in [1, 2^20]");
}

}  // namespace

Llama2cWeights read_llama2c(const std::filesystem::path& file) {
  const std::string path = file.string();
  const std::string bytes = core::read_file(file);
  if (bytes.size() < sizeof(Header))
    throw core::UserError(fmt::format("{}: truncated: {} bytes, shorter than the 28-byte header",
                                      path, bytes.size()));
  uint32_t magic;
  std::memcpy(&magic, bytes.data(), sizeof(magic));
  if (magic == kVersionedMagic)
    throw core::UserError(fmt::format(
        "{}: a versioned llama2.c export (magic ak42); only the legacy version 0 format is read",
        path));
  Header h;
  std::memcpy(&h, bytes.data(), sizeof(h));
  check_header(h, path);

  const bool shared_classifier = h.vocab_size > 0;
  const int64_t vocab = std::abs(int64_t{h.vocab_size}), dim = h.dim, hidden = h.hidden_dim,
                layers = h.n_layers, head_dim = dim / h.n_heads, kv_dim = head_dim * h.n_kv_heads;
  const int64_t floats =
      vocab * dim + layers * (2 * dim + 2 * dim * dim + 2 * kv_dim * dim + 3 * hidden * dim) + dim +
      int64_t{h.seq_len} * head_dim + (shared_classifier ? 0 : vocab * dim);
  const int64_t expected = static_cast<int64_t>(sizeof(Header)) + floats * 4;
  if (static_cast<int64_t>(bytes.size()) != expected)
    throw core::UserError(fmt::format(
        "{}: {}: the header (dim {}, hidden_dim {}, {} layers, vocab {}) needs {} bytes, file has "
        "{}",
        path, static_cast<int64_t>(bytes.size()) < expected ? "truncated" : "trailing data", dim,
        hidden, layers, vocab, expected, bytes.size()));

  // All arrays at once, then views of consecutive slices in file order.
  torch::Tensor all = torch::empty({floats}, torch::kFloat32);
  std::memcpy(all.data_ptr<float>(), bytes.data() + sizeof(Header), floats * 4);
  int64_t offset = 0;
  auto next = [&](std::vector<int64_t> shape) {
    int64_t n = 1;
    for (int64_t s : shape) n *= s;
    torch::Tensor t = all.narrow(0, offset, n).view(shape).clone();
    offset += n;
    return t;
  };
  Llama2cWeights out;
  auto& t = out.tensors;
  t["embed_tokens.weight"] = next({vocab, dim});
  const std::vector<std::pair<std::string, std::vector<int64_t>>> per_layer = {
      {"self_attn.norm.weight", {dim}},
      {"self_attn.block.q_proj.weight", {dim, dim}},
      {"self_attn.block.k_proj.weight", {kv_dim, dim}},
      {"self_attn.block.v_proj.weight", {kv_dim, dim}},
      {"self_attn.block.out_proj.weight", {dim, dim}},
      {"ffn.norm.weight", {dim}},
      {"ffn.block.fc1.weight", {hidden, dim}},
      {"ffn.block.fc2.weight", {dim, hidden}},
      {"ffn.block.fc3.weight", {hidden, dim}}};
  for (const auto& [name, shape] : per_layer) {
    std::vector<int64_t> stacked = {layers};
    stacked.insert(stacked.end(), shape.begin(), shape.end());
    torch::Tensor all_layers = next(stacked);
    for (int64_t i = 0; i < layers; ++i)
      t[fmt::format("decoder.layers.{}.{}", i, name)] = all_layers[i].clone();
  }
  t["decoder.final_norm.weight"] = next({dim});
  next({int64_t{h.seq_len}, head_dim});  // rotary tables: recomputed from theta = 10000
  if (!shared_classifier) t["lm_head.weight"] = next({vocab, dim});

  auto& c = out.config;
  c.model_type = "causal_lm";
  c.vocab_size = vocab;
  c.d_model = dim;
  c.encoder_layers = 0;
  c.decoder_layers = layers;
  c.encoder_attention_heads = c.decoder_attention_heads = h.n_heads;
  c.num_key_value_heads = h.n_kv_heads;
  c.encoder_ffn_dim = c.decoder_ffn_dim = hidden;
  c.dropout = c.attention_dropout = c.activation_dropout = 0.0;
  c.activation_function = "silu";
  c.ffn_gated = true;
  c.use_bias = false;
  c.normalize_before = true;
  c.norm_type = "rms_norm";
  c.norm_eps = 1e-5;
  c.position_embedding = "rotary";
  c.rope_theta = 10000.0;
  c.max_position_embeddings = h.seq_len;
  c.share_embeddings = true;
  c.tie_word_embeddings = shared_classifier;
  c.scale_embedding = false;
  // llama2.c ids: <unk> 0, <s> 1, </s> 2; there is no padding token, and <unk> stands in for it.
  c.pad_token_id = 0;
  c.unk_token_id = 0;
  c.bos_token_id = 1;
  c.eos_token_id = 2;
  c.validate(path);
  return out;
}

}  // namespace slimformer::train
