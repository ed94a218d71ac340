// The FFN search of EfficientBERT (Dong et al. 2021) as library calls, on an encoder with a
// masked-LM head as the teacher. The student is the teacher's architecture with searched FFNs:
//   - the super-network: every FFN at the largest size (linear4_1 of the standard expression, or
//     of the kept expressions for stage 3), embeddings, attention and norms taken from the
//     teacher, the first sub-network of each FFN from the teacher's FFN; warm-up distillation on
//     masked-LM text (soft cross-entropy on the masked-LM logits and the mean squared error of
//     every layer's hidden states, 1:1);
//   - stages 1 and 2: each candidate inherits the super-network's weights, is distilled for a
//     few updates and scored by its held-out masked-token accuracy;
//   - stage 3: the super-network of the kept expressions is trained with weight sharing (every
//     update runs a random depth and width per layer), on masked-LM distillation and then, when
//     tasks are given, on several GLUE tasks at once; candidates are scored with its weights,
//     without training;
//   - a student: an architecture distilled from the super-network for a longer budget, delivered
//     as a checkpoint that every command loads.
// Everything lands in one directory; the search log (search_log.jsonl) makes a stage resumable
// and lets several processes evaluate its candidates at once.
#pragma once

#include <filesystem>
#include <functional>
#include <nlohmann/json.hpp>
#include <string>
#include <vector>

#include "slimformer/methods/search/sampler.h"
#include "slimformer/pipeline/training.h"

namespace slimformer::pipeline {

struct SearchRun {
  std::filesystem::path teacher;          // encoder checkpoint with a masked-LM head
  std::filesystem::path out = "runs/search";
  std::vector<std::string> text;          // masked-LM text (files)
  MaskedLMData data;
  TrainingRun training;                   // optimizer, tokens per batch, device, progress
  int64_t warmup_steps = 600;             // super-network distillation; 0: none (the control)
  int64_t min_parameters = 0, max_parameters = 0;  // FFN budget over all layers; 0: from ratio
  double budget_ratio = 0.25;  // the budget's upper end as a share of the teacher's FFNs
  nlohmann::json record = nlohmann::json::object();
};

struct SearchStageOptions {
  int stage = 1;
  int64_t candidates = 24;
  int64_t candidate_steps = 60;  // distillation updates per candidate (stages 1 and 2)
  int64_t sharing_steps = 600;   // stage 3: weight-sharing updates of its super-network
  // Stage 3, as the method's code does it: after the masked-LM weight sharing, the super-network
  // is fine-tuned with weight sharing on these GLUE tasks at once (a slice of one classification
  // head each) for glue_steps updates, and candidates are scored by the tasks' mean score on
  // every tenth training example, held out. Empty: scored by held-out masked-token accuracy.
  std::vector<std::string> glue_tasks;
  int64_t glue_steps = 600;
  std::string glue_dir = "data/glue";  // their files; examples as long as the search's pairs
  methods::SamplerOptions sampler;
  // Stage 2 keeps the sizes, stage 3 the expressions of this architecture; empty: the best of
  // the previous stage in the log.
  std::string fixed;
  // Called after each evaluated candidate with its log line.
  std::function<void(const nlohmann::json&)> on_candidate;
  // Called once the super-networks exist, before the first claim (other processes sharing the
  // log can start then), and once this process has nothing left to claim, before the stage's
  // results are read (the time to wait for them).
  std::function<void()> before_candidates, after_candidates;
};

struct SearchOutcome {
  std::vector<nlohmann::json> results;  // the stage's log lines, in order
  nlohmann::json best;                  // the best of them
};

// The FFN budget of a run: [min, max] parameters over all layers' FFNs.
std::pair<int64_t, int64_t> ffn_budget(const SearchRun& run);

// Runs (or continues) one stage until `candidates` are evaluated.
SearchOutcome run_search_stage(const SearchRun& run, const SearchStageOptions& options);

// The best result line of a stage in the log (null when it has none).
nlohmann::json best_of_stage(const std::filesystem::path& out, int stage);

// Distils `architecture` (text, or "best": the best candidate of the latest stage) from the
// super-network for `steps` updates into <out>/students/<name>; returns <out>/students/<name>/best.
std::filesystem::path train_student(const SearchRun& run, const std::string& architecture,
                                    const std::string& name, int64_t steps);

}  // namespace slimformer::pipeline
