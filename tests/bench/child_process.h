#pragma once

// The processes the benchmark runs: servers, started with their output in
// files, asked for the port they printed, and stopped by this process, also
// when this process dies first; and commands run to their end.

#include <sys/types.h>

#include <filesystem>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"

namespace signoff::bench {

class ChildProcess {
 public:
  ChildProcess() = default;
  ChildProcess(const ChildProcess&) = delete;
  ChildProcess& operator=(const ChildProcess&) = delete;
  ~ChildProcess() { Stop(); }

  // Starts `args` (args[0] is the binary) with stdout and stderr in
  // `log_prefix`.out and .err, and waits until it prints "(port N)".
  // The child is killed when the thread that started it exits.
  absl::Status Start(const std::vector<std::string>& args, const std::filesystem::path& log_prefix,
                     absl::Duration timeout);
  // SIGTERM, then SIGKILL if it has not ended within a few seconds.
  void Stop();

  int port() const { return port_; }
  pid_t pid() const { return pid_; }
  std::string address() const;

 private:
  absl::StatusOr<int> WaitForPort(const std::filesystem::path& out, absl::Duration timeout);

  pid_t pid_ = -1;
  int port_ = 0;
};

// Runs `args` (args[0] is the binary) to its end with its stdout in
// `out_path` and its stderr on this process's, so that its progress shows.
// An error unless it exited with 0.
absl::Status RunToEnd(const std::vector<std::string>& args, const std::filesystem::path& out_path);

}  // namespace signoff::bench
