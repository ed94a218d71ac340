#include "translation_setup.h"

#include <spdlog/spdlog.h>

#include "slimformer/data/text_file.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

void add_translation_train_options(CommandOptions& options, bool new_model) {
  options.add("data.train_src", "data/multi30k/train.en.gz", "training source text (plain or .gz)");
  options.add("data.train_tgt", "data/multi30k/train.de.gz", "training target text, line-aligned");
  options.add("data.valid_src", "data/multi30k/val.en.gz", "validation source text");
  options.add("data.valid_tgt", "data/multi30k/val.de.gz", "validation target text");
  options.add("data.max_length", 128, "drop training pairs longer than this many tokens");
  if (new_model) add_new_model_options(options);
  add_trainer_options(options);
}

pipeline::TranslationData translation_data(const core::Settings& s) {
  pipeline::TranslationData d;
  d.train_src = s.get_string("data.train_src");
  d.train_tgt = s.get_string("data.train_tgt");
  d.valid_src = s.get_string("data.valid_src");
  d.valid_tgt = s.get_string("data.valid_tgt");
  d.max_length = s.get_int_at_least("data.max_length", 2);
  d.bleu_samples = s.get_int_at_least("train.bleu_samples", 0);
  return d;
}

train::TrainResult run_translation_training(const core::Settings& s, const CommonOptions& common) {
  auto run = training_run(s, common, "train");
  pipeline::prepare_output_dir(run.train);
  const fs::path out = run.train.output_dir;
  auto model = pipeline::resume_or_start(run.train, run.device, [&] {
    train::LoadedModel fresh;
    auto vocab = std::dynamic_pointer_cast<data::Vocab>(tokenizer_from_settings(
        s,
        data::read_lines(std::vector<std::string>{s.get_string("data.train_src"),
                                                  s.get_string("data.train_tgt")}),
        out));
    if (!vocab) s.fail("vocab.model", "must be a sentencepiece model for a translation model");
    auto typed = models::Seq2SeqTransformer(config_from_settings(s, vocab->size(), "seq2seq"));
    typed->to(run.device);
    fresh.model = typed.ptr();
    fresh.tokenizer = vocab;
    return fresh;
  });
  return pipeline::train_translation(model, translation_data(s), run);
}

}  // namespace slimformer::tools
