// The web page `serve` shows at "/": pick a passage, ask a question, see the answer with the
// passage cache and computed afresh, side by side with their times.
#pragma once

namespace slimformer::tools {

extern const char* const kServePage;

}  // namespace slimformer::tools
