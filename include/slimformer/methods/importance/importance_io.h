// Importance results on disk: results.json (everything, read back by `slimformer report` and
// `prune-modules`), scores.csv (one row per sublayer) and evaluations.csv (every evaluation
// behind the scores).
#pragma once

#include <filesystem>
#include <nlohmann/json.hpp>

#include "slimformer/methods/importance/importance.h"

namespace slimformer::methods {

nlohmann::json importance_to_json(const ImportanceResult& result);
// `source` names the file in errors.
ImportanceResult importance_from_json(const nlohmann::json& j, const std::string& source);
// Reads results.json, or RUN_DIR/results.json when given a directory.
ImportanceResult load_importance(const std::filesystem::path& path);

void write_importance_csv(const std::filesystem::path& dir, const ImportanceResult& result);

}  // namespace slimformer::methods
