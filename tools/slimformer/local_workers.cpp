#include "local_workers.h"

#include <arpa/inet.h>
#include <fcntl.h>
#include <fmt/format.h>
#include <netinet/in.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <csignal>
#include <string>
#include <thread>
#include <vector>

#include "command_line.h"
#include "slimformer/core/error.h"

namespace slimformer::tools {

namespace fs = std::filesystem;

namespace {

struct Worker {
  int64_t rank;
  pid_t pid;
  fs::path log;
};
std::vector<Worker> g_workers;

// The command line of worker `rank`: this one with --nproc 1 and the group's coordinates.
std::vector<std::string> worker_arguments(const LocalWorkers& w, int64_t rank) {
  std::vector<std::string> args;
  bool has_threads = false;
  const auto& own = command_arguments();
  for (size_t i = 0; i < own.size(); ++i) {
    if (own[i] == "--nproc") {
      ++i;  // and its value
      continue;
    }
    if (own[i].rfind("--nproc=", 0) == 0) continue;
    has_threads = has_threads || own[i] == "--threads" || own[i].rfind("--threads=", 0) == 0;
    args.push_back(own[i]);
  }
  // --nproc 1 overrides a recipe's --nproc: a worker starts no workers of its own.
  args.insert(args.end(), {"--nproc", "1"});
  if (w.port == 0)
    args.push_back(w.helper_flag);
  else
    args.insert(args.end(),
                {"--world-size", std::to_string(w.processes), "--rank", std::to_string(rank),
                 "--master-addr", "127.0.0.1", "--master-port", std::to_string(w.port)});
  if (!has_threads) args.insert(args.end(), {"--threads", std::to_string(w.threads)});
  return args;
}

// Whether `pid` ended within `seconds`; its exit status in `status`.
bool reap_within(pid_t pid, double seconds, int& status) {
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::duration<double>(seconds);
  while (true) {
    if (waitpid(pid, &status, WNOHANG) == pid) return true;
    if (std::chrono::steady_clock::now() >= deadline) return false;
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
}

}  // namespace

int64_t free_local_port() {
  const int fd = socket(AF_INET, SOCK_STREAM, 0);
  if (fd < 0) throw core::UserError("--nproc: no socket for the workers' rendezvous");
  sockaddr_in address{};
  address.sin_family = AF_INET;
  address.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
  address.sin_port = 0;  // the system picks a free one
  socklen_t length = sizeof(address);
  const bool ok = bind(fd, reinterpret_cast<sockaddr*>(&address), sizeof(address)) == 0 &&
                  getsockname(fd, reinterpret_cast<sockaddr*>(&address), &length) == 0;
  close(fd);
  if (!ok) throw core::UserError("--nproc: no free port on the loopback for the workers");
  return ntohs(address.sin_port);
}

void start_local_workers(const LocalWorkers& w) {
  fs::create_directories(w.log_dir);
  for (int64_t rank = 1; rank < w.processes; ++rank) {
    auto args = worker_arguments(w, rank);
    std::vector<char*> argv;
    for (auto& a : args) argv.push_back(a.data());
    argv.push_back(nullptr);
    const fs::path log = w.log_dir / fmt::format("rank-{}.log", rank);
    const std::string log_path = log.string();
    // Only async-signal-safe calls between fork and exec: the parent has threads.
    const pid_t pid = fork();
    if (pid < 0) throw core::UserError(fmt::format("--nproc: could not start worker {}", rank));
    if (pid == 0) {
      prctl(PR_SET_PDEATHSIG, SIGTERM);  // a worker never outlives the primary
      const int fd = open(log_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC, 0644);
      if (fd >= 0) dup2(fd, STDOUT_FILENO), dup2(fd, STDERR_FILENO), close(fd);
      execv("/proc/self/exe", argv.data());
      _exit(127);
    }
    g_workers.push_back({rank, pid, log});
  }
}

void finish_local_workers(bool succeeded, double wait_seconds) {
  for (const auto& w : g_workers) {
    int status = 0;
    // After the last checkpoint a worker only exits. A failed run's workers hold nothing worth
    // keeping (the primary writes every checkpoint): they are ended at once.
    bool ended = succeeded && wait_seconds < 0
                     ? waitpid(w.pid, &status, 0) == w.pid
                     : reap_within(w.pid, succeeded ? wait_seconds : 0.5, status);
    if (!ended) kill(w.pid, SIGKILL), waitpid(w.pid, &status, 0);
    const bool clean = ended && WIFEXITED(status) && WEXITSTATUS(status) == 0;
    if (succeeded && !clean)
      fmt::print(stderr, "warning: worker {} did not end cleanly; its output: {}\n", w.rank,
                 w.log.string());
    else if (!succeeded && ended && WIFEXITED(status) && WEXITSTATUS(status) != 0)
      fmt::print(stderr, "worker {} failed; its output: {}\n", w.rank, w.log.string());
  }
  g_workers.clear();
}

}  // namespace slimformer::tools
