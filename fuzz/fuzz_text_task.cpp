// Labelled sentence(-pair) files: GLUE TSV (a single-sentence, a pair and a regression task) and
// a user's CSV task; the first byte picks the task and whether malformed rows are skipped.
#include "fuzz_input.h"
#include "slimformer/data/glue.h"
#include "slimformer/data/text_task.h"

using namespace slimformer;

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  if (size == 0) return 0;
  static const data::TextTask csv_task = [] {
    data::TextTask t;
    t.name = "reviews";
    t.text_columns = {"review", "1"};
    t.label_column = "label";
    t.labels = {"pos", "neg"};
    t.delimiter = ',';
    return t;
  }();
  const data::TextTask* tasks[] = {&data::glue_task("SST-2"), &data::glue_task("MRPC"),
                                   &data::glue_task("STS-B"), &csv_task};
  const auto& task = *tasks[data[0] % 4];
  const bool skip = data[0] & 4;
  const std::string path =
      fuzz::write_input(data + 1, size - 1, task.delimiter == ',' ? ".csv" : ".tsv");
  return fuzz::expect_user_errors_only([&] { data::read_text_task(path, task, skip); });
}
