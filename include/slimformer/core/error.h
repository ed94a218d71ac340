// Exceptions shared by the whole library. The library throws and never aborts; the program maps
// these to exit codes (UserError 1, anything else 2, Interrupted 130).
#pragma once

#include <stdexcept>
#include <string>

namespace slimformer::core {

// A mistake in what the user gave: a file, a field, an option. The message is one line that
// says what was expected, what was given, and where.
class UserError : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Raised after a long-running command saved a resumable state because it was asked to stop.
class Interrupted : public std::runtime_error {
 public:
  using std::runtime_error::runtime_error;
};

// Throws UserError(message) unless condition holds.
inline void require(bool condition, const std::string& message) {
  if (!condition) throw UserError(message);
}

}  // namespace slimformer::core
