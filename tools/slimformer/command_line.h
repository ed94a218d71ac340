// The command line as one string, for run records.
#pragma once

#include <string>

namespace slimformer::tools {

void set_command_line(int argc, char** argv);
const std::string& command_line();

}  // namespace slimformer::tools
