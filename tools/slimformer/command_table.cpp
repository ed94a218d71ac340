// The program's command table, built by main and afresh for each step a chain runs in-process.
#include "commands.h"

namespace slimformer::tools {

void register_commands(CLI::App& app) {
  register_quickstart(app);
  register_vocab(app);
  register_train(app);
  register_pretrain(app);
  register_finetune(app);
  register_translate(app);
  register_evaluate(app);
  register_info(app);
  register_import(app);
  register_generate(app);
  register_export(app);
  register_importance(app);
  register_prune_modules(app);
  register_rewind(app);
  register_sparsify(app);
  register_linearize(app);
  register_decompose(app);
  register_search(app);
  register_compress(app);
  register_compare(app);
  register_cache(app);
  register_serve(app);
  register_report(app);
  register_chart(app);
  register_bench(app);
  register_doctor(app);
}

}  // namespace slimformer::tools
