// Each command registers its subcommand and the callback that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>

namespace slimformer::tools {

// Set by SIGINT/SIGTERM; long commands save and exit 130 when they see it.
extern std::atomic<bool> g_stop_requested;

void register_doctor(CLI::App& app);
void register_info(CLI::App& app);
void register_vocab(CLI::App& app);
void register_train(CLI::App& app);
void register_translate(CLI::App& app);
void register_evaluate(CLI::App& app);
void register_bench(CLI::App& app);
void register_quickstart(CLI::App& app);
void register_export(CLI::App& app);
void register_importance(CLI::App& app);
void register_prune_modules(CLI::App& app);
void register_rewind(CLI::App& app);
void register_report(CLI::App& app);
void register_import(CLI::App& app);
void register_generate(CLI::App& app);
void register_pretrain(CLI::App& app);
void register_finetune(CLI::App& app);
// `bench decode`, a subcommand of bench.
void add_bench_decode(CLI::App* bench);

}  // namespace slimformer::tools
