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
      if (!j.is_object() || !j.contains("event") || !j.contains("stage") || !j.contains("index"))
        throw core::UserError(
            fmt::format("{}:{}: a log line needs event, stage and index", path_.string(), i + 1));
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
