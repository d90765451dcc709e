#pragma once

// Runs the real signoffd binary on a temporary database and a free port,
// for end-to-end tests.

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdio>
#include <filesystem>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "absl/strings/numbers.h"
#include "gtest/gtest.h"

namespace signoff::testing {

class SignoffdProcess {
 public:
  // `extra` are further flags; the database and listen address are set.
  SignoffdProcess(std::string binary, std::filesystem::path data_dir,
                  std::vector<std::string> extra)
      : binary_(std::move(binary)), data_dir_(std::move(data_dir)), extra_(std::move(extra)) {}
  ~SignoffdProcess() { Kill(SIGKILL); }

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
    std::vector<std::string> args = {binary_, "serve", "--db", (data_dir_ / "signoff.db").string(),
                                     "--listen", "127.0.0.1:0"};
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
    FILE* output = fdopen(out[0], "r");
    char line[1024];
    port_ = 0;
    while (port_ == 0 && std::fgets(line, sizeof(line), output) != nullptr) {
      std::string text(line);
      output_ += text;
      auto at = text.find("(port ");
      if (at == std::string::npos) continue;
      int port = 0;
      const auto end = text.find(')', at);
      if (absl::SimpleAtoi(text.substr(at + 6, end - at - 6), &port)) port_ = port;
    }
    std::fclose(output);
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
  // The running server's pid, or -1 when none runs.
  pid_t pid() const { return pid_; }
  const std::string& output() const { return output_; }

 private:
  std::string binary_;
  std::filesystem::path data_dir_;
  std::vector<std::string> extra_;
  pid_t pid_ = -1;
  int port_ = 0;
  std::string output_;
};

}  // namespace signoff::testing
