// The options of work spread over several processes or machines (train/data_parallel.h):
// --nproc on one machine, --world-size/--rank/--master-addr/--master-port across machines, and
// the group they describe. Commands that train once take them (the trainer deals out batches),
// and importance (each worker scores its share of the sublayers).
#pragma once

#include <filesystem>

#include "options.h"
#include "slimformer/train/data_parallel.h"

namespace slimformer::tools {

// parallel.*: --nproc, --world-size, --rank, --master-addr, --master-port, --collective-timeout.
void add_data_parallel_options(CommandOptions& options);

// The compute threads each of `processes` workers on this machine uses: --threads, or the
// machine's cores shared among them; configures this process with them.
int share_cores(const CommonOptions& common, int64_t processes);

// The group the options describe. With --nproc N this process is worker 0: the machine's cores
// are shared among the N workers (unless --threads says otherwise) and workers 1..N-1 are started
// now, their output in <output>/workers. Call only after the output directory has been checked.
train::DataParallelOptions data_parallel_from_settings(const core::Settings& settings,
                                                       const CommonOptions& common,
                                                       const std::filesystem::path& output);

}  // namespace slimformer::tools
