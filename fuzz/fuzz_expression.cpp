// FFN expressions (config.json block specs, the search log, search options): parsed, checked
// against the search space's rules, printed, and read back to the same expression.
#include <cstdlib>

#include "fuzz_input.h"
#include "slimformer/nn/ffn_expression.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  using namespace slimformer;
  const std::string text(reinterpret_cast<const char*>(data), size);
  nn::FfnExpression expr;
  try {  // the parser's refusal, which its callers turn into a UserError naming the option
    expr = nn::FfnExpression::parse(text);
  } catch (const std::invalid_argument&) {
    return 0;
  }
  return fuzz::expect_user_errors_only([&] {
    if (!(nn::FfnExpression::parse(expr.to_string()) == expr)) {
      std::fprintf(stderr, "'%s' does not read back to itself\n", expr.to_string().c_str());
      std::abort();
    }
    if (expr.valid()) nn::expression_parameters(expr, 64);
  });
}
