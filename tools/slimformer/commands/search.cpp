// slimformer search: EfficientBERT's FFN search (Dong et al. 2021) on an encoder with a
// masked-LM head as the teacher: a warm-up distilled super-network, candidates drawn by a
// LaNAS-style learned sampler (or at random, the control) and scored after a short
// distillation, in three progressive stages, logged so that a stage resumes where it stopped;
// `--student` distils an architecture (the best found, or any) into a deliverable model.
#include "slimformer/pipeline/search.h"

#include <fmt/format.h>
#include <spdlog/spdlog.h>

#include <algorithm>

#include "command_line.h"
#include "commands.h"
#include "local_workers.h"
#include "options.h"
#include "parallel_setup.h"
#include "slimformer/core/error.h"
#include "slimformer/data/glue.h"
#include "slimformer/pipeline/training_defaults.h"
#include "slimformer/train/trainer.h"
#include "training_setup.h"

namespace slimformer::tools {

namespace {

void add_search_options(CommandOptions& options) {
  options.add_positional("teacher", "teacher", "encoder checkpoint with a masked-LM head");
  options.add("search.stage", 1,
              "1: expressions, depths and widths; 2: expressions, sizes kept; 3: depths and "
              "widths, expressions kept, with weight sharing",
              "--stage");
  options.add("search.candidates", 24, "candidates to evaluate in the stage (all processes)",
              "--candidates");
  options.add("search.candidate_steps", 60, "distillation updates per candidate (stages 1, 2)",
              "--candidate-steps");
  options.add("search.sharing_steps", 600,
              "stage 3: weight-sharing updates of its super-network", "--sharing-steps");
  options.add("search.glue_tasks", "",
              "stage 3: also fine-tune the weight-sharing super-network on these GLUE tasks at "
              "once (comma-separated, e.g. SST-2,MRPC,CoLA) and score candidates by their mean "
              "on every tenth training example, held out (empty: masked-token accuracy)",
              "--glue-tasks");
  options.add("search.glue_steps", 600, "stage 3: updates of the fine-tuning on --glue-tasks",
              "--glue-steps");
  options.add("data.glue_dir", "data/glue", "folder of the GLUE tasks' files (--glue-tasks)");
  options.add("search.warmup_steps", 600,
              "warm-up distillation updates of the super-network (0: none, the control)",
              "--supernet-warmup");
  options.add("search.sampler", "lanas", "lanas (learned partition) or random (the control)",
              "--sampler");
  options.add("search.seed", 1, "seed of the sampler", "--search-seed");
  options.add("search.initial_samples", 12, "lanas: random candidates before the first split",
              "--initial-samples");
  options.add("search.tree_depth", 2, "lanas: depth of the partition tree", "--tree-depth");
  options.add("search.exploration", 0.1, "lanas: UCB constant, in units of the score spread",
              "--exploration");
  options.add("search.fixed", "",
              "stages 2 and 3: the architecture whose sizes (2) or expressions (3) are kept, "
              "layers separated by ';' (default: the best of the previous stage)",
              "--fixed");
  options.add("search.min_params", 0,
              "FFN parameters over all layers, at least (0: 0.9 x the baseline's, linear1_1 "
              "in every layer)",
              "--min-params");
  options.add("search.max_params", 0, "FFN parameters over all layers, at most (0: 1.05 x the "
              "baseline's)", "--max-params");
  options.add("search.student", "",
              "instead of searching, distil this architecture ('best': the best found; layers "
              "separated by ';') from the super-network into <output>/students/<name>",
              "--student");
  options.add("search.student_name", "searched", "the student's directory name", "--student-name");
  options.add("search.student_steps", 1500, "the student's distillation updates",
              "--student-steps");
  options.add("data.train_text",
              nlohmann::json::array({"data/wikitext-2/valid.txt.gz", "data/wikitext-2/test.txt.gz",
                                     "data/tinyshakespeare/input.txt.gz"}),
              "masked-LM text files (one line each, consecutive lines form sentence pairs)");
  options.add("data.max_length", 128, "tokens per sentence pair");
  options.add("data.valid_pairs", 300, "the last N sentence pairs score the candidates");
  options.add("data.mask_probability", 0.15, "share of tokens chosen for prediction");
  add_trainer_options(options);
  options.add("search.nproc", 1,
              "evaluate candidates on N processes of this machine: the others start once the "
              "super-networks exist and share the search log (more machines: start search there "
              "with the same --output on a shared filesystem)",
              "--nproc");
  options.set_defaults(pipeline::search_training_defaults());
  options.set_default("output", "runs/search");
}

}  // namespace

void register_search(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "search", "search FFN expressions (EfficientBERT) with a warm-up distilled super-network");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  add_search_options(*options);
  auto helper = std::make_shared<bool>(false);
  cmd->add_flag("--candidate-helper", *helper,
                "(internal) evaluate this stage's candidates only, for a search's --nproc")
      ->group("");
  cmd->callback([options, common, helper] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    // The search has several trainings, each with its own budget option.
    if (s.origin("train.max_steps") != "default")
      throw core::UserError(fmt::format(
          "{}: train.max_steps does not apply to search; its budgets are --supernet-warmup, "
          "--candidate-steps, --sharing-steps, --glue-steps and --student-steps",
          s.origin("train.max_steps")));
    pipeline::SearchRun run;
    run.teacher = s.get_string("teacher");
    run.out = s.get_string("output");
    run.text = masked_lm_texts(s);
    run.data = masked_lm_data(s);
    run.training = training_run(s, *common, "search");
    run.warmup_steps = s.get_int_at_least("search.warmup_steps", 0);
    run.min_parameters = s.get_int_at_least("search.min_params", 0);
    run.max_parameters = s.get_int_at_least("search.max_params", 0);
    run.record = {{"command", command_line()}, {"options", s.to_nested_json()}};

    if (const std::string student = s.get_string("search.student"); !student.empty()) {
      const auto dir = pipeline::train_student(run, student, s.get_string("search.student_name"),
                                               s.get_int_at_least("search.student_steps", 1));
      fmt::print("student in {}\n", dir.string());
      return;
    }
    pipeline::SearchStageOptions o;
    o.stage = static_cast<int>(s.get_int_at_least("search.stage", 1));
    if (o.stage > 3) s.fail("search.stage", "must be 1, 2 or 3");
    o.candidates = s.get_int_at_least("search.candidates", 1);
    o.candidate_steps = s.get_int_at_least("search.candidate_steps", 1);
    o.sharing_steps = s.get_int_at_least("search.sharing_steps", 1);
    o.glue_tasks = get_list(s, "search.glue_tasks");
    if (!o.glue_tasks.empty() && o.stage != 3)
      s.fail("search.glue_tasks", "applies to stage 3 only");
    for (auto& task : o.glue_tasks) {
      try {
        task = data::glue_task(task).name;
      } catch (const core::UserError& e) {
        throw core::UserError(fmt::format("{}: {}", s.origin("search.glue_tasks"), e.what()));
      }
      if (std::count(o.glue_tasks.begin(), o.glue_tasks.end(), task) > 1)
        s.fail("search.glue_tasks", "must name each task once");
    }
    o.glue_steps = s.get_int_at_least("search.glue_steps", 1);
    o.glue_dir = s.get_string("data.glue_dir");
    o.sampler.kind = s.get_choice("search.sampler", {"lanas", "random"});
    o.sampler.seed = static_cast<uint64_t>(s.get_int("search.seed"));
    o.sampler.initial_samples = s.get_int_at_least("search.initial_samples", 0);
    o.sampler.tree_depth = s.get_int_at_least("search.tree_depth", 0);
    o.sampler.exploration = s.get_double_in("search.exploration", 0, 1e6, true);
    o.fixed = s.get_string("search.fixed");
    // --nproc: helpers start once the super-networks exist and end with the stage's last claim;
    // the stage's results are read once they have all ended.
    const int64_t nproc = s.get_int_at_least("search.nproc", 1);
    if (*helper) {
      o.after_candidates = [] { throw train::SecondaryWorkerDone(); };
    } else if (nproc > 1) {
      o.before_candidates = [=, out = run.out] {
        start_local_workers(
            {nproc, 0, share_cores(*common, nproc), out / "workers", "--candidate-helper"});
        spdlog::info("evaluating candidates on {} processes (the others' output in {})", nproc,
                     (out / "workers").string());
      };
      o.after_candidates = [] { finish_local_workers(true, /*wait_seconds=*/-1); };
    }
    o.on_candidate = [](const nlohmann::json& r) {
      fmt::print("stage {} #{:<3} score {:.4f}  FFN {:>9} params  {:6.2f} ms  {}\n",
                 r.value("stage", 0), r.value("index", 0), r.value("score", 0.0),
                 r.value("ffn_parameters", 0), r.value("latency_ms", 0.0),
                 r.value("architecture", ""));
    };
    const auto outcome = pipeline::run_search_stage(run, o);
    if (!outcome.best.is_null())
      fmt::print("best of stage {} ({} candidates): score {:.4f}\n  {}\nlog in {}/search_log.jsonl\n",
                 o.stage, outcome.results.size(), outcome.best.value("score", 0.0),
                 outcome.best.value("architecture", ""), run.out.string());
  });
}

}  // namespace slimformer::tools
