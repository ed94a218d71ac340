// slimformer: make Transformers smaller and faster, and measure what it costs.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <csignal>
#include <cstdio>

#include "command_line.h"
#include "commands.h"
#include "local_workers.h"
#include "slimformer/core/error.h"
#include "slimformer/train/trainer.h"

namespace slimformer::tools {
std::atomic<bool> g_stop_requested{false};
}

namespace {

void on_signal(int) {
  // A second Ctrl-C while saving ends the program at once.
  if (slimformer::tools::g_stop_requested.exchange(true)) std::_Exit(130);
}

}  // namespace

int main(int argc, char** argv) {
  using namespace slimformer;
  CLI::App app{
      "slimformer: make Transformers smaller and faster, with measured speed and accuracy"};
  app.require_subcommand(1);
  app.set_version_flag("--version", "slimformer 0.1.0");
  tools::register_commands(app);

  tools::set_command_line(argc, argv);
  std::signal(SIGINT, on_signal);
  std::signal(SIGTERM, on_signal);
  spdlog::set_pattern("%^%l%$: %v");
  // Workers --nproc started end with the command; a failed command ends them at once.
  auto failed = [](int code) {
    tools::finish_local_workers(false);
    return code;
  };
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return failed(app.exit(e) == 0 ? 0 : 1);
  } catch (const train::SecondaryWorkerDone&) {
    return 0;  // a worker's training is over; the primary evaluates and writes
  } catch (const core::UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return failed(1);
  } catch (const core::Interrupted& e) {
    std::fprintf(stderr, "\n%s\n", e.what());
    return failed(130);
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what_without_backtrace());
    return failed(2);
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return failed(2);
  }
  tools::finish_local_workers(true);
  return 0;
}
