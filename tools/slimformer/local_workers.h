// The worker processes `--nproc N` starts on this machine: copies of this program's own command
// line that join the run's group as ranks 1..N-1 (train/data_parallel.h), each writing its output
// to <output>/workers/rank-R.log. This process is the primary, rank 0.
#pragma once

#include <cstdint>
#include <filesystem>
#include <string>

namespace slimformer::tools {

struct LocalWorkers {
  int64_t processes = 1;  // the primary included
  int64_t port = 0;       // the primary's rendezvous port; 0: no group (helpers, see below)
  int threads = 1;        // compute threads per worker
  std::filesystem::path log_dir;
  // Without a group (port 0) the workers get this flag instead of the group's coordinates:
  // helpers that share work through files, as search's candidates through the search log.
  std::string helper_flag;
};

// A TCP port on the loopback no process listens on now.
int64_t free_local_port();

// Starts ranks 1..processes-1 with this program's command line, --nproc replaced by the group's
// --world-size, --rank, --master-addr and --master-port (or by the helper flag). They end when
// this process does.
void start_local_workers(const LocalWorkers& workers);

// At the end of the command: with `succeeded`, waits for the workers up to `wait_seconds` (they
// end with training; helpers with their last piece of work, so < 0 waits as long as they run)
// and reports any that failed; otherwise ends them. Does nothing when none were started.
void finish_local_workers(bool succeeded, double wait_seconds = 60);

}  // namespace slimformer::tools
