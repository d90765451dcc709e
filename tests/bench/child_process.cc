#include "child_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <fstream>
#include <sstream>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/time/clock.h"

namespace signoff::bench {

namespace {

// Forks and execs `args` (args[0] is the binary) with stdout on `out` and
// stderr on `err` (-1 keeps this process's). The child is killed when the
// thread that started it exits. -1 when fork failed.
pid_t Spawn(const std::vector<std::string>& args, int out, int err) {
  // Everything the child needs is made before fork: between fork and exec
  // only async-signal-safe calls are allowed, and gRPC threads may hold the
  // allocator's lock.
  std::vector<std::string> owned = args;
  std::vector<char*> argv;
  for (auto& arg : owned) argv.push_back(arg.data());
  argv.push_back(nullptr);
  const pid_t parent = getpid();
  const pid_t pid = fork();
  if (pid == 0) {
    // If the parent died before this took hold the child would be an
    // orphan already: do not start it.
    if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
    dup2(out, STDOUT_FILENO);
    if (err >= 0) dup2(err, STDERR_FILENO);
    execv(argv[0], argv.data());
    _exit(127);
  }
  return pid;
}

}  // namespace

absl::Status RunToEnd(const std::vector<std::string>& args, const std::filesystem::path& out_path) {
  const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0) return absl::InternalError(absl::StrCat("cannot create ", out_path.string()));
  const pid_t pid = Spawn(args, out, -1);
  close(out);
  if (pid < 0) return absl::InternalError("fork failed");
  int status = 0;
  waitpid(pid, &status, 0);
  if (WIFEXITED(status) && WEXITSTATUS(status) == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(
      args[0], " ", args.size() > 1 ? args[1] : "", " failed (",
      WIFEXITED(status) ? absl::StrCat("exit code ", WEXITSTATUS(status))
                        : absl::StrCat("signal ", WTERMSIG(status)),
      "); its output is in ", out_path.string()));
}

absl::Status ChildProcess::Start(const std::vector<std::string>& args,
                                 const std::filesystem::path& log_prefix, absl::Duration timeout) {
  const std::filesystem::path out_path = log_prefix.string() + ".out";
  const std::filesystem::path err_path = log_prefix.string() + ".err";
  const int out = open(out_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  const int err = open(err_path.c_str(), O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
  if (out < 0 || err < 0) {
    if (out >= 0) close(out);
    if (err >= 0) close(err);
    return absl::InternalError(absl::StrCat("cannot create ", out_path.string()));
  }
  pid_ = Spawn(args, out, err);
  close(out);
  close(err);
  if (pid_ < 0) return absl::InternalError("fork failed");
  auto port = WaitForPort(out_path, timeout);
  if (!port.ok()) {
    Stop();
    return absl::Status(port.status().code(),
                        absl::StrCat(args[0], ": ", port.status().message(), "; see ",
                                     err_path.string()));
  }
  port_ = *port;
  return absl::OkStatus();
}

absl::StatusOr<int> ChildProcess::WaitForPort(const std::filesystem::path& out,
                                              absl::Duration timeout) {
  const absl::Time give_up = absl::Now() + timeout;
  while (absl::Now() < give_up) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return absl::InternalError("exited before it listened");
    }
    std::ifstream file(out);
    std::stringstream text;
    text << file.rdbuf();
    const std::string printed = text.str();
    const auto at = printed.find("(port ");
    const auto end = at == std::string::npos ? at : printed.find(')', at);
    int port = 0;
    if (end != std::string::npos && absl::SimpleAtoi(printed.substr(at + 6, end - at - 6), &port)) {
      return port;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  return absl::DeadlineExceededError(
      absl::StrCat("printed no port within ", absl::FormatDuration(timeout)));
}

void ChildProcess::Stop() {
  if (pid_ <= 0) return;
  ::kill(pid_, SIGTERM);
  // Bounded: a server that does not shut down in time is killed.
  for (int waited = 0; waited < 500; ++waited) {
    int status = 0;
    if (waitpid(pid_, &status, WNOHANG) == pid_) {
      pid_ = -1;
      return;
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(10));
  }
  ::kill(pid_, SIGKILL);
  int status = 0;
  waitpid(pid_, &status, 0);
  pid_ = -1;
}

std::string ChildProcess::address() const { return absl::StrCat("127.0.0.1:", port_); }

}  // namespace signoff::bench
