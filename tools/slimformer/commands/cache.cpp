// slimformer cache: runs every passage once through the lower layers of a decomposed span-QA
// encoder and stores its layer-k states in an LMDB passage cache for `serve`.
#include <fmt/format.h>

#include "commands.h"
#include "options.h"
#include "slimformer/core/files.h"
#include "slimformer/core/runtime.h"
#include "slimformer/core/settings.h"
#include "slimformer/pipeline/progress_reports.h"
#include "slimformer/pipeline/qa_service.h"

namespace slimformer::tools {

void register_cache(CLI::App& app) {
  auto* cmd = app.add_subcommand(
      "cache", "store the lower layers' states of every passage for a decomposed QA model");
  auto options = std::make_shared<CommandOptions>(cmd);
  auto common = std::make_shared<CommonOptions>();
  common->add_to(cmd);
  options->add_positional("model", "model", "decomposed span-QA encoder (slimformer decompose)");
  options->add("cache.passages", "",
               "passages: a SQuAD v1.1 JSON file (ids <title>#<paragraph>) or a TSV of "
               "id<TAB>text lines (required)",
               "--passages");
  options->add("cache.output", "", "new cache directory (required)", "--output");
  options->add("cache.float16", false, "store the states in float16 (half the size)",
               "--float16");
  cmd->callback([options, common] {
    core::Settings s;
    if (!options->resolve(s)) return;
    common->apply();
    pipeline::CacheBuildOptions o;
    o.model_dir = s.get_string("model");
    o.passages_file = s.get_string("cache.passages");
    o.output = s.get_string("cache.output");
    if (o.passages_file.empty()) throw core::UserError("--passages is required");
    if (o.output.empty()) throw core::UserError("--output is required");
    o.float16 = s.get_bool("cache.float16");
    o.device = core::parse_device(common->device);
    o.progress = [bar = pipeline::measurement_progress("cache")](int64_t done, int64_t total) {
      bar(done, total, "passages");
    };
    const auto report = pipeline::build_passage_cache(o);
    fmt::print(
        "cached {} passages ({} windows, {} tokens) in {:.1f} s: {} entries {:.2f} MB, LMDB file "
        "{:.2f} MB, {:.1f} KB per passage ({})\n",
        report.passages, report.windows, report.tokens, report.seconds, report.dtype,
        double(report.entry_bytes) / 1e6, double(report.file_bytes) / 1e6,
        double(report.file_bytes) / 1e3 / double(std::max<int64_t>(report.passages, 1)),
        o.output.string());
    core::write_text_atomically(o.output / "report.json", report.to_json().dump(2) + "\n");
  });
}

}  // namespace slimformer::tools
