#include "command_line.h"

namespace slimformer::tools {

namespace {
std::string g_command_line;
}

void set_command_line(int argc, char** argv) {
  g_command_line.clear();
  for (int i = 0; i < argc; ++i) g_command_line += (i ? " " : "") + std::string(argv[i]);
}

const std::string& command_line() { return g_command_line; }

}  // namespace slimformer::tools
