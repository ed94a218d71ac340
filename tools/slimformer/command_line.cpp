#include "command_line.h"

namespace slimformer::tools {

namespace {
std::string g_command_line;
std::vector<std::string> g_arguments;
}  // namespace

void set_command_line(int argc, char** argv) {
  set_command_line(std::vector<std::string>(argv, argv + argc));
}

void set_command_line(const std::vector<std::string>& arguments) {
  g_arguments = arguments;
  g_command_line.clear();
  for (size_t i = 0; i < arguments.size(); ++i) g_command_line += (i ? " " : "") + arguments[i];
}

const std::string& command_line() { return g_command_line; }

const std::vector<std::string>& command_arguments() { return g_arguments; }

}  // namespace slimformer::tools
