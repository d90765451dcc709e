#pragma once

// Runs the real signoffd binary on a temporary database and a free port,
// for end-to-end tests.

#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "gtest/gtest.h"

namespace signoff::testing {

// An empty directory of its own for the running test, named after
// `prefix`, this process and the test.
inline std::filesystem::path FreshTestDirectory(const std::string& prefix) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() /
      absl::StrCat(prefix, "-", ::getpid(), "-",
                   ::testing::UnitTest::GetInstance()->current_test_info()->name());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);
  return dir;
}

class SignoffdProcess {
 public:
  // `extra` are further flags; the database and listen address are set.
  SignoffdProcess(std::string binary, std::filesystem::path data_dir,
                  std::vector<std::string> extra)
      : binary_(std::move(binary)), data_dir_(std::move(data_dir)), extra_(std::move(extra)) {}
  ~SignoffdProcess() { Kill(SIGKILL); }

  // The --db for the next Start; the default is signoff.db in the data
  // folder.
  void UseDatabase(std::string db) { db_ = std::move(db); }

  // Flags for the next Start, e.g. a later --clock-offset.
  void SetExtraFlags(std::vector<std::string> extra) { extra_ = std::move(extra); }
  const std::vector<std::string>& extra_flags() const { return extra_; }

  // Starts the server and waits until it reports its port. Call it from a
  // thread that lives as long as the server should: the server is killed
  // when the thread that started it exits.
  void Start() {
    // Everything the child needs is built before fork: between fork and
    // exec only async-signal-safe calls are allowed, and the test process
    // runs gRPC threads that may hold the allocator's lock.
    const std::string db = db_.empty() ? (data_dir_ / "signoff.db").string() : db_;
    std::vector<std::string> args = {binary_, "serve", "--db", db, "--listen", "127.0.0.1:0"};
    args.insert(args.end(), extra_.begin(), extra_.end());
    std::vector<char*> argv;
    for (auto& arg : args) argv.push_back(arg.data());
    argv.push_back(nullptr);
    const std::string log = (data_dir_ / "signoffd.log").string();
    int err = open(log.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    ASSERT_GE(err, 0);
    int out[2];
    ASSERT_EQ(pipe2(out, O_CLOEXEC), 0);
    const pid_t parent = getpid();
    pid_ = fork();
    ASSERT_GE(pid_, 0);
    if (pid_ == 0) {
      // A test process that crashes runs no destructor, so the kernel must
      // kill the server instead. If the parent died before this took hold,
      // the server would be an orphan already: do not start it.
      if (prctl(PR_SET_PDEATHSIG, SIGKILL) != 0 || getppid() != parent) _exit(127);
      dup2(out[1], STDOUT_FILENO);
      dup2(err, STDERR_FILENO);
      execv(argv[0], argv.data());
      _exit(127);
    }
    close(err);
    close(out[1]);
    port_ = ReadPort(out[0]);
    close(out[0]);
    ASSERT_NE(port_, 0) << "signoffd did not start; output:\n" << output_;
  }

  // SIGKILL models a crash: nothing is flushed or shut down cleanly.
  void Kill(int signal) {
    if (pid_ <= 0) return;
    ::kill(pid_, signal);
    int status = 0;
    waitpid(pid_, &status, 0);
    pid_ = -1;
  }

  std::string address() const { return absl::StrCat("127.0.0.1:", port_); }
  int port() const { return port_; }

  // How long a start may take before the test gives up on it, rather than
  // hanging on a server that never says where it listens.
  void SetStartSeconds(int seconds) { start_seconds_ = seconds; }
  // The running server's pid, or -1 when none runs.
  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }

 private:
  // Reads signoffd's stdout until it names its port, it closes, or the
  // start time limit passes; 0 unless the port was read.
  int ReadPort(int fd) {
    const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(start_seconds_);
    std::string pending;
    char chunk[1024];
    while (true) {
      const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(
          deadline - std::chrono::steady_clock::now());
      pollfd ready{fd, POLLIN, 0};
      if (left.count() <= 0 || poll(&ready, 1, static_cast<int>(left.count())) <= 0) {
        output_ += "\n(no port named within the start time limit)";
        return 0;
      }
      const ssize_t got = read(fd, chunk, sizeof(chunk));
      if (got <= 0) return 0;
      output_.append(chunk, static_cast<size_t>(got));
      pending.append(chunk, static_cast<size_t>(got));
      const auto at = pending.find("(port ");
      const auto end = at == std::string::npos ? at : pending.find(')', at);
      if (end == std::string::npos) continue;
      int port = 0;
      if (absl::SimpleAtoi(pending.substr(at + 6, end - at - 6), &port)) return port;
      pending.erase(0, end + 1);
    }
  }

  std::string binary_;
  int start_seconds_ = 30;
  std::filesystem::path data_dir_;
  std::string db_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string output_;
};

}  // namespace signoff::testing
