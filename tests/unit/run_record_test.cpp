// What commands read back from a checkpoint's slimformer.json: the recorded values, defaults for
// what is missing, and one-line errors naming the field for what a hand edit broke.
#include "slimformer/pipeline/run_record.h"

#include <gtest/gtest.h>

#include "slimformer/core/error.h"

namespace slimformer {
namespace {

using nlohmann::json;

// The message of the UserError `fn` throws ("" when it throws none).
template <typename Fn>
std::string user_error(Fn&& fn) {
  try {
    fn();
  } catch (const core::UserError& e) {
    return e.what();
  }
  return "";
}

TEST(RunRecord, SquadOptionsAreReadBackWithDefaultsAndTheModelsPositions) {
  models::TransformerConfig config;
  config.max_position_embeddings = 256;
  const auto run = pipeline::squad_options_of_run(
      json::parse(R"({"task": {"squad": {"file": "q.json", "held_out_articles": 3,
                                         "max_length": 384, "doc_stride": 64}}})"),
      config);
  EXPECT_EQ(run.file, "q.json");
  EXPECT_EQ(run.held_out_articles, 3);
  EXPECT_EQ(run.valid_articles, pipeline::SquadRunOptions().valid_articles);
  EXPECT_EQ(run.windows.max_length, 256);  // no longer than the model's positions
  EXPECT_EQ(run.windows.doc_stride, 64);
  // Older checkpoints: the finetune command's options.
  const auto old = pipeline::squad_options_of_run(
      json::parse(R"({"options": {"data": {"squad_held_out": 5}}})"), config);
  EXPECT_EQ(old.held_out_articles, 5);
}

TEST(RunRecord, AFieldOfTheWrongTypeIsAnErrorNamingIt) {
  models::TransformerConfig config;
  const std::string squad = user_error([&] {
    pipeline::squad_options_of_run(
        json::parse(R"({"task": {"squad": {"held_out_articles": "eight"}}})"), config,
        "m/slimformer.json");
  });
  EXPECT_EQ(squad.rfind("m/slimformer.json task.squad: held_out_articles holds \"eight\"", 0), 0u)
      << squad;
  const std::string task = user_error([] {
    pipeline::recorded_text_task(json::parse(R"({"task": {"glue": "SST-2", "dev_file": 3}})"));
  });
  EXPECT_EQ(task.rfind("slimformer.json task: dev_file holds 3", 0), 0u) << task;
  EXPECT_EQ(user_error([] { pipeline::chain_labels(json::parse(R"({"compression_chain": 5})")); }),
            "slimformer.json: compression_chain must be a list");
  EXPECT_EQ(
      user_error([] { pipeline::chain_labels(json::parse(R"({"compression_chain": [1]})")); }),
      "slimformer.json compression_chain: every step must be an object");
}

TEST(RunRecord, TheTaskAndTheChainAreReadBack) {
  const auto task = pipeline::recorded_text_task(
      json::parse(R"({"task": {"glue": "SST-2", "train_file": "t.tsv"}})"));
  ASSERT_TRUE(task.task.has_value());
  EXPECT_EQ(task.task->name, "SST-2");
  EXPECT_TRUE(task.glue);
  EXPECT_EQ(task.train_file, "t.tsv");
  EXPECT_FALSE(pipeline::recorded_text_task(json::object()).task.has_value());
  EXPECT_EQ(pipeline::chain_labels(json::parse(
                R"({"compression_chain": [{"command": "sparsify", "options": {"prune":
                    {"sparsity": 0.7, "schedule": "gradual"}}}, {"command": "linearize"}]})")),
            (std::vector<std::string>{"sparsify (schedule gradual, sparsity 0.7)", "linearize"}));
}

}  // namespace
}  // namespace slimformer
