// The inference path: reserved key/value storage, joined projections, matrix-vector products for
// one row, cached position tables and finished sentences dropped from the batch all compute what
// the straightforward path computes.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>

#include "slimformer/data/text_file.h"
#include "slimformer/eval/decoding.h"
#include "slimformer/kernels/dense_rows.h"
#include "slimformer/models/seq2seq.h"
#include "slimformer/nn/attention.h"
#include "slimformer/nn/linear.h"
#include "slimformer/nn/positions.h"
#include "slimformer/train/checkpoint.h"
#include "test_helpers.h"

namespace slimformer {
namespace {

TEST(KeyValueState, ReservedOrGrownStorageHoldsWhatWasAppended) {
  torch::manual_seed(0);
  auto steps = torch::randn({2, 3, 7, 4});
  for (int64_t capacity : {0, 3, 7, 16}) {
    nn::KeyValueState state(capacity);
    for (int64_t t = 0; t < 7; ++t) state.append(steps.narrow(2, t, 1), -steps.narrow(2, t, 1));
    EXPECT_EQ(state.length(), 7);
    EXPECT_TRUE(torch::equal(state.keys(), steps)) << capacity;
    EXPECT_TRUE(torch::equal(state.values(), -steps)) << capacity;
    EXPECT_GE(state.bytes(), 2 * steps.nbytes());
  }
  // A source-only state keeps its rows through a beam reorder, not through dropping rows.
  nn::KeyValueState memory(0, /*from_source=*/true);
  memory.append(steps, steps);
  memory.reorder(torch::tensor({1, 1}, torch::kInt64), nn::Reorder::kWithinSource);
  EXPECT_TRUE(torch::equal(memory.keys(), steps));
  memory.reorder(torch::tensor({1}, torch::kInt64), nn::Reorder::kAny);
  EXPECT_TRUE(torch::equal(memory.keys(), steps.narrow(0, 1, 1)));
}

TEST(JoinedLinears, EqualThePartsAndFollowWeightChanges) {
  torch::manual_seed(0);
  nn::Linear q(8, 8), k(8, 4), v(nn::LinearOptions(8, 4).bias(false));
  nn::JoinedLinears joined;
  auto x = torch::randn({3, 5, 8});
  auto check = [&] {
    torch::NoGradGuard no_grad;
    auto parts = joined.forward({q.get(), k.get(), v.get()}, x);
    EXPECT_TRUE(torch::allclose(parts[0], q(x), 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(parts[1], k(x), 1e-6, 1e-6));
    EXPECT_TRUE(torch::allclose(parts[2], v(x), 1e-6, 1e-6));
  };
  check();
  {
    torch::NoGradGuard no_grad;
    k->weight.mul_(2);  // an in-place change (a training step, a loaded checkpoint)
  }
  check();
  // Under autograd the parts run separately, so gradients reach them.
  auto outputs = joined.forward({q.get(), k.get(), v.get()}, x);
  (outputs[0].sum() + outputs[1].sum() + outputs[2].sum()).backward();
  EXPECT_TRUE(q->weight.grad().defined() && k->weight.grad().defined() &&
              v->weight.grad().defined());
}

TEST(DenseLinear, OneRowEqualsTheMatrixProduct) {
  torch::manual_seed(0);
  nn::Linear layer(64, 48);
  auto x = torch::randn({1, 1, 64});
  torch::Tensor expected = torch::linear(x, layer->weight, layer->bias);
  torch::NoGradGuard no_grad;
  auto got = layer(x);
  EXPECT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-5));
}

// The few-row kernel against LibTorch's product: every row count it takes, widths that are and are
// not multiples of eight, with and without a bias, on one thread and split over several.
TEST(DenseLinear, FewRowsEqualTheMatrixProduct) {
  torch::manual_seed(1);
  for (auto [in, out] : {std::pair<int64_t, int64_t>{64, 48}, {37, 5}, {256, 1024}}) {
    auto weight = torch::randn({out, in});
    auto bias = torch::randn({out});
    for (int64_t rows = 1; rows <= 8; ++rows) {
      auto x = torch::randn({rows, in});
      for (const auto& b : {bias, torch::Tensor()}) {
        auto got = kernels::few_rows_linear(x, weight, b);
        EXPECT_TRUE(torch::allclose(got, torch::linear(x, weight, b), 1e-4, 1e-4))
            << rows << " rows, " << in << " -> " << out;
      }
    }
  }
  // A layer's input of five rows ([beams, 1, D]) takes the kernel and keeps its shape.
  nn::Linear layer(256, 48);
  auto x = torch::randn({5, 1, 256});
  torch::Tensor expected = torch::linear(x, layer->weight, layer->bias);
  torch::NoGradGuard no_grad;
  ASSERT_TRUE(kernels::few_rows_pay(5, 256));
  auto got = layer(x);
  EXPECT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(torch::allclose(got, expected, 1e-5, 1e-5));
  EXPECT_FALSE(kernels::few_rows_pay(1, 256));
  EXPECT_FALSE(kernels::few_rows_pay(9, 256));
  EXPECT_FALSE(kernels::few_rows_pay(5, 172));
}

TEST(PositionTable, SlicesEqualTheDirectComputation) {
  auto table = nn::sinusoid_table(16);
  for (int64_t start : {0, 5, 100})
    EXPECT_TRUE(torch::allclose(table.rows(start, 3, torch::kCPU),
                                nn::sinusoidal_positions(3, 16, start, torch::kCPU), 1e-6, 1e-6));
  // Built in inference mode, the table is still usable by autograd.
  nn::PositionTable fresh = nn::sinusoid_table(16);
  torch::Tensor rows;
  {
    c10::InferenceMode inference;
    rows = fresh.rows(0, 4, torch::kCPU);
  }
  auto w = torch::ones({4, 16}, torch::requires_grad());
  (w * fresh.rows(0, 4, torch::kCPU)).sum().backward();
  EXPECT_TRUE(torch::equal(w.grad(), rows));
}

// Greedy search the plain way: every row computed until the last sentence finishes.
std::vector<std::vector<int64_t>> plain_greedy(models::Seq2SeqTransformerImpl& model,
                                               const torch::Tensor& src, int64_t max_length) {
  torch::NoGradGuard no_grad;
  auto encoded = model.encode(src);
  auto state = model.make_state();
  const int64_t batch = src.size(0);
  torch::Tensor last = torch::full({batch, 1}, data::Vocab::kBos, torch::kInt64);
  std::vector<std::vector<int64_t>> out(batch);
  std::vector<bool> done(batch, false);
  for (int64_t step = 0; step < max_length; ++step) {
    auto log_probs = torch::log_softmax(model.decode(last, encoded, &state).select(1, -1), -1);
    log_probs.select(1, data::Vocab::kPad).fill_(-INFINITY);
    log_probs.select(1, data::Vocab::kBos).fill_(-INFINITY);
    torch::Tensor next = log_probs.argmax(-1);
    for (int64_t b = 0; b < batch; ++b) {
      if (done[b]) continue;
      if (next[b].item<int64_t>() == data::Vocab::kEos)
        done[b] = true;
      else
        out[b].push_back(next[b].item<int64_t>());
    }
    if (std::all_of(done.begin(), done.end(), [](bool d) { return d; })) break;
    last = next.unsqueeze(1);
  }
  return out;
}

TEST(Decoding, DroppingFinishedSentencesChangesNoOutput) {
  auto ckpt = train::load_seq2seq(testing::source_dir() / "models/multi30k-base", torch::kCPU);
  auto lines = data::read_lines(testing::data_file("multi30k/test_2016_flickr.en.gz"));
  lines.resize(40);
  eval::DecodeOptions options;
  options.beam_size = 1;
  auto batches = eval::prepare_source_batches(*ckpt.model, ckpt.vocab, lines, options, torch::kCPU);
  ASSERT_EQ(batches.src.size(), 1u);  // one batch, whose sentences finish at different steps
  ckpt.model->eval();
  EXPECT_EQ(eval::greedy_search(*ckpt.model, batches.src[0], batches.max_length[0]),
            plain_greedy(*ckpt.model, batches.src[0], batches.max_length[0]));
}

}  // namespace
}  // namespace slimformer
