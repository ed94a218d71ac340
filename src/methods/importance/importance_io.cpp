#include "slimformer/methods/importance/importance_io.h"

#include <fmt/format.h>

#include <limits>

#include "slimformer/core/error.h"
#include "slimformer/core/files.h"

namespace slimformer::methods {

namespace fs = std::filesystem;
using nlohmann::json;

namespace {

// NaN (not computed) is written as null and read back as NaN.
json number_or_null(double v) { return std::isnan(v) ? json() : json(v); }

std::string csv_number(double v) { return std::isnan(v) ? "" : fmt::format("{:.6g}", v); }

// Field access that names the file and the field when the JSON is not what we wrote.
class Reader {
 public:
  explicit Reader(std::string source) : source_(std::move(source)) {}
  const json& field(const json& j, const std::string& name, json::value_t type) const {
    if (!j.is_object() || !j.contains(name))
      throw core::UserError(fmt::format("{}: missing field {}", source_, name));
    const json& v = j.at(name);
    const bool ok =
        type == json::value_t::number_float
            ? v.is_number() || v.is_null()
            : v.type() == type || (type == json::value_t::number_integer && v.is_number_unsigned());
    if (!ok) throw core::UserError(fmt::format("{}: field {} has the wrong type", source_, name));
    return v;
  }
  double number(const json& j, const std::string& name) const {
    const json& v = field(j, name, json::value_t::number_float);
    return v.is_null() ? std::numeric_limits<double>::quiet_NaN() : v.get<double>();
  }
  std::string text(const json& j, const std::string& name) const {
    return field(j, name, json::value_t::string).get<std::string>();
  }

 private:
  std::string source_;
};

}  // namespace

json importance_to_json(const ImportanceResult& r) {
  json j = {{"metric", r.metric},
            {"higher_is_better", r.higher_is_better},
            {"examples", r.examples},
            {"baseline", r.baseline},
            {"threshold", r.threshold},
            {"clip", r.clip},
            {"tolerance", r.tolerance},
            {"seconds", r.seconds},
            {"evaluation_count", r.evaluations.size()}};
  j["sublayers"] = json::array();
  for (const auto& s : r.sublayers)
    j["sublayers"].push_back({{"path", s.path},
                              {"label", s.place.label},
                              {"parameters", s.parameters},
                              {"metric_off", number_or_null(s.metric_off)},
                              {"drop", number_or_null(s.drop)},
                              {"contribution", number_or_null(s.contribution)},
                              {"criticality", number_or_null(s.criticality)}});
  j["evaluations"] = json::array();
  for (const auto& e : r.evaluations)
    j["evaluations"].push_back({{"path", e.path},
                                {"action", e.action},
                                {"alpha", e.alpha},
                                {"value", e.value},
                                {"seconds", e.seconds}});
  j["removal_curves"] = json::object();
  for (const auto& [by, curve] : r.removal_curves) {
    json points = json::array();
    for (const auto& p : curve)
      points.push_back({{"k", p.k}, {"removed", p.removed}, {"value", p.value}});
    j["removal_curves"][by] = points;
  }
  return j;
}

ImportanceResult importance_from_json(const json& j, const std::string& source) {
  Reader in(source);
  ImportanceResult r;
  r.metric = in.text(j, "metric");
  r.higher_is_better = in.field(j, "higher_is_better", json::value_t::boolean).get<bool>();
  r.examples = in.field(j, "examples", json::value_t::number_integer).get<size_t>();
  r.baseline = in.number(j, "baseline");
  r.threshold = in.number(j, "threshold");
  r.clip = in.number(j, "clip");
  r.tolerance = in.number(j, "tolerance");
  r.seconds = in.number(j, "seconds");
  for (const auto& s : in.field(j, "sublayers", json::value_t::array)) {
    SublayerImportance entry;
    entry.path = in.text(s, "path");
    entry.place = sublayer_place(entry.path);
    entry.parameters = in.field(s, "parameters", json::value_t::number_integer).get<int64_t>();
    entry.metric_off = in.number(s, "metric_off");
    entry.drop = in.number(s, "drop");
    entry.contribution = in.number(s, "contribution");
    entry.criticality = in.number(s, "criticality");
    r.sublayers.push_back(entry);
  }
  if (r.sublayers.empty()) throw core::UserError(fmt::format("{}: no sublayers", source));
  if (j.contains("evaluations"))
    for (const auto& e : in.field(j, "evaluations", json::value_t::array))
      r.evaluations.push_back({in.text(e, "path"), in.text(e, "action"), in.number(e, "alpha"),
                               in.number(e, "value"), in.number(e, "seconds")});
  if (j.contains("removal_curves")) {
    for (const auto& [by, points] : in.field(j, "removal_curves", json::value_t::object).items()) {
      for (const auto& p : points) {
        RemovalPoint point;
        point.k = in.field(p, "k", json::value_t::number_integer).get<int64_t>();
        point.removed =
            in.field(p, "removed", json::value_t::array).get<std::vector<std::string>>();
        point.value = in.number(p, "value");
        r.removal_curves[by].push_back(point);
      }
    }
  }
  return r;
}

ImportanceResult load_importance(const fs::path& path) {
  const fs::path file = fs::is_directory(path) ? path / "results.json" : path;
  if (!fs::exists(file))
    throw core::UserError(
        fmt::format("{}: no importance results (run slimformer importance)", file.string()));
  json j;
  try {
    j = json::parse(core::read_file(file));
  } catch (const json::exception& e) {
    throw core::UserError(fmt::format("{}: malformed JSON: {}", file.string(), e.what()));
  }
  return importance_from_json(j, file.string());
}

void write_importance_csv(const fs::path& dir, const ImportanceResult& r) {
  std::string scores = "path,label,layer,parameters,metric_off,drop,contribution,criticality\n";
  for (const auto& s : r.sublayers)
    scores += fmt::format("{},{},{},{},{},{},{},{}\n", s.path, s.place.label, s.place.layer,
                          s.parameters, csv_number(s.metric_off), csv_number(s.drop),
                          csv_number(s.contribution), csv_number(s.criticality));
  core::write_text_atomically(dir / "scores.csv", scores);
  std::string evaluations = "path,action,alpha,value,seconds\n";
  for (const auto& e : r.evaluations)
    evaluations += fmt::format("{},{},{},{},{:.3f}\n", e.path, e.action, csv_number(e.alpha),
                               csv_number(e.value), e.seconds);
  core::write_text_atomically(dir / "evaluations.csv", evaluations);
}

}  // namespace slimformer::methods
