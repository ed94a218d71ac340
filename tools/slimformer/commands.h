// Each command registers its subcommand and the callback that runs it.
#pragma once

#include <CLI/CLI.hpp>
#include <atomic>
#include <functional>

namespace slimformer::tools {

// Set by SIGINT/SIGTERM; long commands save and exit 130 when they see it.
extern std::atomic<bool> g_stop_requested;

void register_doctor(CLI::App& app);
void register_compress(CLI::App& app);
void register_compare(CLI::App& app);
// Every command above, in the order --help lists them.
void register_commands(CLI::App& app);
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
void register_sparsify(CLI::App& app);
void register_report(CLI::App& app);
void register_chart(CLI::App& app);
void register_linearize(CLI::App& app);
void register_decompose(CLI::App& app);
void register_cache(CLI::App& app);
void register_serve(CLI::App& app);
void register_import(CLI::App& app);
void register_generate(CLI::App& app);
void register_pretrain(CLI::App& app);
void register_finetune(CLI::App& app);
void register_search(CLI::App& app);
// `bench decode`, a subcommand of bench.
void add_bench_decode(CLI::App* bench);
// `bench translate` and `bench generate`, subcommands of bench.
void add_bench_inference(CLI::App* bench);
// `bench encoder`, a subcommand of bench.
void add_bench_encoder(CLI::App* bench);
// `bench sparse`, a subcommand of bench.
void add_bench_sparse(CLI::App* bench);
// `bench linear`, a subcommand of bench.
void add_bench_linear(CLI::App* bench);
void add_bench_forward(CLI::App* bench);
// Seconds that `steps` calls of `step` take after `warmup` untimed ones.
double time_steps(const std::function<void()>& step, int64_t warmup, int64_t steps);
// "AxB" as two integers, both >= 1 (a matrix shape, a batch and a length); a UserError naming
// `option` and showing the `form` and an `example` ("ROWSxCOLS", "3072x768") otherwise.
std::pair<int64_t, int64_t> parse_pair(const std::string& text, const std::string& option,
                                       const std::string& form, const std::string& example);

}  // namespace slimformer::tools
