#include "slimformer/methods/search/search_log.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <sys/file.h>
#include <unistd.h>

#include <fstream>
#include <map>
#include <set>

#include "slimformer/core/error.h"

namespace slimformer::methods {

namespace fs = std::filesystem;
using json = nlohmann::json;

namespace {

// An exclusive flock held for the object's lifetime.
class FileLock {
 public:
  explicit FileLock(const fs::path& path) {
    fd_ = ::open(path.c_str(), O_RDWR | O_CREAT | O_APPEND, 0644);
    if (fd_ < 0)
      throw core::UserError(fmt::format("{}: cannot open the search log", path.string()));
    ::flock(fd_, LOCK_EX);
  }
  ~FileLock() {
    ::flock(fd_, LOCK_UN);
    ::close(fd_);
  }
  int fd() const { return fd_; }

 private:
  int fd_ = -1;
};

std::string host_name() {
  char name[256] = {0};
  ::gethostname(name, sizeof name - 1);
  return name;
}

bool process_alive(const json& claim) {
  if (claim.value("host", "") != host_name()) return true;  // another machine's: trust it
  const int pid = claim.value("pid", 0);
  return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM);
}

// What is wrong with a parsed log line ("" when nothing): the fields every reader relies on, with
// their types, so that a line edited by hand is refused where it is read.
std::string line_violation(const json& j) {
  if (!j.is_object()) return "a log line must be a JSON object";
  for (const char* key : {"event", "stage", "index", "architecture"})
    if (!j.contains(key)) return "a log line needs event, stage, index and architecture";
  if (j["event"] != "claim" && j["event"] != "result") return "event must be claim or result";
  if (!j["stage"].is_number_integer()) return "stage must be an integer";
  if (!j["index"].is_number_integer() || j["index"].get<int64_t>() < 0 ||
      j["index"].get<int64_t>() > (int64_t(1) << 40))
    return "index must be a candidate's number";
  if (!j["architecture"].is_string()) return "architecture must be a string";
  try {
    Architecture::parse(j["architecture"].get<std::string>());
  } catch (const std::invalid_argument& e) {
    return e.what();
  }
  for (const char* key : {"region", "host"})
    if (j.contains(key) && !j[key].is_string()) return fmt::format("{} must be a string", key);
  if (j.contains("pid") && !j["pid"].is_number_integer()) return "pid must be an integer";
  for (const char* key : {"score", "seconds", "ffn_parameters", "latency_ms"})
    if (j.contains(key) && !j[key].is_number()) return fmt::format("{} must be a number", key);
  return "";
}

}  // namespace

SearchLog::SearchLog(fs::path path) : path_(std::move(path)) {
  if (path_.has_parent_path()) fs::create_directories(path_.parent_path());
}

std::vector<json> SearchLog::read_locked() const {
  std::vector<json> lines;
  std::ifstream in(path_);
  std::string line;
  std::vector<std::string> raw;
  while (std::getline(in, line)) raw.push_back(line);
  for (size_t i = 0; i < raw.size(); ++i) {
    if (raw[i].empty()) continue;
    try {
      json j = json::parse(raw[i]);
      if (const std::string why = line_violation(j); !why.empty())
        throw core::UserError(fmt::format("{}:{}: {}", path_.string(), i + 1, why));
      lines.push_back(std::move(j));
    } catch (const json::parse_error& e) {
      // A line cut short by a crash (then closed by the next append) ends before its object
      // does: it holds no complete event, and its candidate is claimed again.
      if (e.byte > raw[i].size()) continue;
      throw core::UserError(
          fmt::format("{}:{}: not a JSON line ({})", path_.string(), i + 1, e.what()));
    } catch (const json::exception& e) {  // a number out of range, for instance
      throw core::UserError(
          fmt::format("{}:{}: not a JSON line ({})", path_.string(), i + 1, e.what()));
    }
  }
  return lines;
}

void SearchLog::append_locked(const json& line) const {
  // A line cut short by a crash is closed first, so that it stays the one malformed line.
  bool ends_line = true;
  if (std::ifstream in(path_, std::ios::binary | std::ios::ate); in && in.tellg() > 0) {
    in.seekg(-1, std::ios::end);
    ends_line = in.get() == '\n';
  }
  std::ofstream out(path_, std::ios::app);
  if (!ends_line) out << '\n';
  out << line.dump() << '\n';
  out.flush();
  if (!out)
    throw core::UserError(fmt::format("{}: cannot append to the search log", path_.string()));
}

std::vector<json> SearchLog::results(int stage) const {
  FileLock lock(path_);
  std::vector<json> out;
  for (auto& j : read_locked())
    if (j["event"] == "result" && (stage == 0 || j["stage"] == stage)) out.push_back(std::move(j));
  return out;
}

std::optional<SearchClaim> SearchLog::claim(int stage, int64_t limit, const Proposer& propose) {
  FileLock lock(path_);
  const auto lines = read_locked();
  std::map<int64_t, json> open;  // claims without a result, by index
  std::vector<json> done;
  int64_t next = 0;
  for (const auto& j : lines) {
    if (j["stage"] != stage) continue;
    const int64_t index = j["index"];
    next = std::max(next, index + 1);
    if (j["event"] == "claim") open[index] = j;
    if (j["event"] == "result") {
      open.erase(index);
      done.push_back(j);
    }
  }
  SearchClaim c;
  c.stage = stage;
  for (const auto& [index, j] : open) {
    if (process_alive(j)) continue;
    c.index = index;
    c.architecture = Architecture::parse(j["architecture"]);
    c.region = j.value("region", "");
    c.reclaimed = true;
    break;
  }
  if (!c.reclaimed) {
    if (next >= limit) return std::nullopt;
    // Claimed but unfinished candidates count as taken, so two workers never share one.
    std::set<std::string> taken;
    for (const auto& j : done) taken.insert(j["architecture"].get<std::string>());
    for (const auto& [index, j] : open) taken.insert(j["architecture"].get<std::string>());
    auto [architecture, region] = propose(evaluated_samples(done), taken, next);
    c.index = next;
    c.architecture = std::move(architecture);
    c.region = std::move(region);
  }
  append_locked({{"event", "claim"},
                 {"stage", stage},
                 {"index", c.index},
                 {"architecture", c.architecture.to_string()},
                 {"region", c.region},
                 {"pid", static_cast<int>(::getpid())},
                 {"host", host_name()}});
  return c;
}

void SearchLog::record(const SearchClaim& claim, json result) {
  FileLock lock(path_);
  result["event"] = "result";
  result["stage"] = claim.stage;
  result["index"] = claim.index;
  result["architecture"] = claim.architecture.to_string();
  result["region"] = claim.region;
  append_locked(result);
}

std::vector<EvaluatedSample> evaluated_samples(const std::vector<json>& results) {
  std::vector<EvaluatedSample> out;
  for (const auto& j : results)
    out.push_back(
        {Architecture::parse(j.at("architecture").get<std::string>()), j.value("score", 0.0)});
  return out;
}

}  // namespace slimformer::methods
