#include "slimformer/core/files.h"

#include <fcntl.h>
#include <fmt/format.h>
#include <signal.h>
#include <stdio.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>

#include "slimformer/core/error.h"

namespace slimformer::core {

namespace fs = std::filesystem;

namespace {

fs::path temporary_sibling(const fs::path& path) {
  return path.parent_path() / fmt::format(".{}.tmp-{}", path.filename().string(), ::getpid());
}

// Temporary and old siblings of `path` left by processes that died mid-write (".last.tmp-PID").
void remove_stale_siblings(const fs::path& path) {
  const fs::path parent = path.has_parent_path() ? path.parent_path() : fs::path(".");
  const std::string prefix = "." + path.filename().string() + ".";
  std::error_code ec;
  for (const auto& entry : fs::directory_iterator(parent, ec)) {
    const std::string name = entry.path().filename().string();
    if (!name.starts_with(prefix)) continue;
    const auto dash = name.rfind('-');
    if (dash == std::string::npos) continue;
    const std::string kind = name.substr(prefix.size(), dash - prefix.size());
    if (kind != "tmp" && kind != "old") continue;
    const std::string pid_text = name.substr(dash + 1);
    if (pid_text.empty() || pid_text.find_first_not_of("0123456789") != std::string::npos) continue;
    const pid_t pid = static_cast<pid_t>(std::stol(pid_text));
    if (pid != ::getpid() && ::kill(pid, 0) != 0 && errno == ESRCH) fs::remove_all(entry, ec);
  }
}

void sync_path(const fs::path& path) {
  int fd = ::open(path.c_str(), O_RDONLY);
  if (fd >= 0) {
    ::fsync(fd);
    ::close(fd);
  }
}

}  // namespace

void write_file_atomically(const fs::path& path, const std::function<void(std::ostream&)>& write) {
  if (path.has_parent_path()) fs::create_directories(path.parent_path());
  fs::path tmp = temporary_sibling(path);
  {
    std::ofstream out(tmp, std::ios::binary | std::ios::trunc);
    if (!out) throw UserError(fmt::format("{}: cannot open for writing", tmp.string()));
    write(out);
    out.flush();
    if (!out) {
      fs::remove(tmp);
      throw UserError(fmt::format("{}: write failed (disk full?)", path.string()));
    }
  }
  sync_path(tmp);
  fs::rename(tmp, path);
}

void write_text_atomically(const fs::path& path, const std::string& text) {
  write_file_atomically(path, [&](std::ostream& out) { out << text; });
}

void write_directory_atomically(const fs::path& dir,
                                const std::function<void(const fs::path&)>& fill) {
  if (dir.has_parent_path()) fs::create_directories(dir.parent_path());
  remove_stale_siblings(dir);
  fs::path tmp = temporary_sibling(dir);
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  try {
    fill(tmp);
  } catch (const std::exception& e) {
    // A full disk or a failing device, reported by whichever writer met it first.
    fs::remove_all(tmp);
    const std::string why = e.what();
    throw UserError(fmt::format("{}: could not be written ({}); the previous one is unchanged",
                                dir.string(), why.substr(0, why.find('\n'))));
  }
  // An existing directory is exchanged with the new one in one step, so that a crash at any
  // moment leaves the old or the new one in place, never neither.
  if (fs::exists(dir) &&
      ::renameat2(AT_FDCWD, tmp.c_str(), AT_FDCWD, dir.c_str(), RENAME_EXCHANGE) == 0) {
    fs::remove_all(tmp);
    return;
  }
  // A file system without the exchange: move the old one aside first.
  fs::path old = dir.parent_path() / fmt::format(".{}.old-{}", dir.filename().string(), ::getpid());
  bool had_old = fs::exists(dir);
  if (had_old) fs::rename(dir, old);
  fs::rename(tmp, dir);
  if (had_old) fs::remove_all(old);
}

std::string read_file(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw UserError(fmt::format("{}: cannot open file", path.string()));
  std::ostringstream buffer;
  buffer << in.rdbuf();
  return buffer.str();
}

uintmax_t directory_bytes(const fs::path& dir) {
  uintmax_t bytes = 0;
  for (const auto& entry : fs::directory_iterator(dir))
    if (entry.is_regular_file()) bytes += entry.file_size();
  return bytes;
}

}  // namespace slimformer::core
