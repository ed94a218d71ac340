// The command line as one string, for run records, and as its arguments, for child processes
// that repeat it.
#pragma once

#include <string>
#include <vector>

namespace slimformer::tools {

void set_command_line(int argc, char** argv);
void set_command_line(const std::vector<std::string>& arguments);
const std::string& command_line();
const std::vector<std::string>& command_arguments();

}  // namespace slimformer::tools
