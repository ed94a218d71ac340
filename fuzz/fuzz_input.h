// What every fuzz target shares: the input written to a file of the kind its loader reads (the
// loaders take paths, as users give them), and the rule that a malformed input may only end in
// core::UserError, the one-line error the program prints with exit code 1. Any other exception
// would reach the user as an internal error, and a crash as a crash: both are findings.
#pragma once

#include <unistd.h>

#include <cstdint>
#include <cstdio>
#include <cstdlib>
#include <exception>
#include <fstream>
#include <string>

#include "slimformer/core/error.h"

namespace slimformer::fuzz {

// A file holding the input, named with `suffix` (".gz", ".json", ...), one per process.
inline std::string write_input(const uint8_t* data, size_t size, const std::string& suffix) {
  static const std::string dir = [] {
    const char* tmp = std::getenv("TMPDIR");
    return std::string(tmp && *tmp ? tmp : "/tmp");
  }();
  const std::string path = dir + "/slimformer-fuzz-" + std::to_string(getpid()) + suffix;
  std::ofstream(path, std::ios::binary | std::ios::trunc)
      .write(reinterpret_cast<const char*>(data), static_cast<std::streamsize>(size));
  return path;
}

// Runs a loader on one input: a UserError is the expected refusal, anything else is reported
// and aborts, so that the fuzzer keeps the input.
template <typename Load>
int expect_user_errors_only(Load&& load) {
  try {
    load();
  } catch (const core::UserError&) {
  } catch (const std::exception& e) {
    std::fprintf(stderr, "not a UserError: %s\n", e.what());
    std::abort();
  }
  return 0;
}

}  // namespace slimformer::fuzz
