// slimformer.json: what a checkpoint records of the run that made it, as the commands read it
// back (the task a model was fine-tuned on, its SQuAD windows, its compression chain).
#include "fuzz_input.h"
#include "slimformer/pipeline/run_record.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slimformer;
  nlohmann::json record;
  try {  // as train::read_record: malformed JSON is a UserError naming the file
    record = nlohmann::json::parse(data, data + size);
  } catch (const nlohmann::json::exception&) {
    return 0;
  }
  return fuzz::expect_user_errors_only([&] {
    models::TransformerConfig config;
    config.model_type = "encoder";
    pipeline::squad_options_of_run(record, config);
    pipeline::recorded_text_task(record).split_file("dev", "data/glue");
    pipeline::chain_labels(record);
  });
}
