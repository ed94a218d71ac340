// slimformer: make Transformers smaller and faster, and measure what it costs.
#include <spdlog/spdlog.h>
#include <torch/torch.h>

#include <csignal>
#include <cstdio>

#include "command_line.h"
#include "commands.h"
#include "slimformer/core/error.h"

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
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    return app.exit(e) == 0 ? 0 : 1;
  } catch (const core::UserError& e) {
    std::fprintf(stderr, "error: %s\n", e.what());
    return 1;
  } catch (const core::Interrupted& e) {
    std::fprintf(stderr, "\n%s\n", e.what());
    return 130;
  } catch (const c10::Error& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what_without_backtrace());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "internal error: %s\n", e.what());
    return 2;
  }
  return 0;
}
