// The end-to-end harness itself: a test process that crashes must not leave
// its signoffd behind, since a crashed process runs no destructors.
#include "signoffd_process.h"

#include <fcntl.h>
#include <signal.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <thread>

#include "absl/strings/str_cat.h"
#include "gtest/gtest-spi.h"
#include "gtest/gtest.h"

namespace signoff::testing {
namespace {

// Reads exactly sizeof(*out) bytes; false if the writer went away first.
bool ReadAll(int fd, pid_t* out) {
  auto* bytes = reinterpret_cast<char*>(out);
  size_t done = 0;
  while (done < sizeof(*out)) {
    const ssize_t n = read(fd, bytes + done, sizeof(*out) - done);
    if (n <= 0) return false;
    done += static_cast<size_t>(n);
  }
  return true;
}

TEST(EndToEndHarnessTest, SignoffdDiesWhenTheTestProcessCrashes) {
  // Orphans are handed to this process instead of init, so it can reap the
  // server (a reaped process is gone for sure; a zombie still answers kill 0)
  // and clean up when the server outlives the crash.
  ASSERT_EQ(prctl(PR_SET_CHILD_SUBREAPER, 1), 0);
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("signoff-harness-", ::getpid());
  std::filesystem::remove_all(dir);
  std::filesystem::create_directories(dir);

  int pid_pipe[2];
  ASSERT_EQ(pipe2(pid_pipe, O_CLOEXEC), 0);
  // The stand-in for a test process: it starts signoffd from its main
  // thread, reports the server's pid and crashes without any cleanup.
  const pid_t test_process = fork();
  ASSERT_GE(test_process, 0);
  if (test_process == 0) {
    close(pid_pipe[0]);
    const rlimit no_core{0, 0};
    setrlimit(RLIMIT_CORE, &no_core);
    auto* server = new SignoffdProcess(SIGNOFFD_BINARY, dir, {});
    server->Start();
    const pid_t server_pid = server->pid();
    if (server_pid <= 0 || write(pid_pipe[1], &server_pid, sizeof(server_pid)) !=
                               static_cast<ssize_t>(sizeof(server_pid))) {
      _exit(3);
    }
    std::abort();
  }
  close(pid_pipe[1]);
  pid_t server_pid = -1;
  const bool reported = ReadAll(pid_pipe[0], &server_pid);
  close(pid_pipe[0]);
  int status = 0;
  ASSERT_EQ(waitpid(test_process, &status, 0), test_process);
  ASSERT_TRUE(reported) << "the stand-in test process could not start signoffd; its status "
                        << status;
  ASSERT_TRUE(WIFSIGNALED(status) && WTERMSIG(status) == SIGABRT) << "status " << status;

  // signoffd must be killed once the process that started it is gone.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(5);
  pid_t reaped = 0;
  int server_status = 0;
  while (reaped == 0 && std::chrono::steady_clock::now() < deadline) {
    reaped = waitpid(server_pid, &server_status, WNOHANG);
    if (reaped == 0) std::this_thread::sleep_for(std::chrono::milliseconds(20));
  }
  if (reaped == 0) {
    ::kill(server_pid, SIGKILL);
    waitpid(server_pid, &server_status, 0);
    std::filesystem::remove_all(dir);
    FAIL() << "signoffd (pid " << server_pid
           << ") was still running 5 s after the test process that started it crashed";
  }
  std::filesystem::remove_all(dir);
  ASSERT_EQ(reaped, server_pid) << "signoffd was not handed to this process to reap";
  EXPECT_TRUE(WIFSIGNALED(server_status) && WTERMSIG(server_status) == SIGKILL)
      << "signoffd ended with status " << server_status;
}

// A stand-in server that never says where it listens.
SignoffdProcess* silent_server = nullptr;

TEST(EndToEndHarnessTest, AServerThatNeverNamesItsPortFailsItsStartInTime) {
  const std::filesystem::path dir =
      std::filesystem::temp_directory_path() / absl::StrCat("signoff-silent-", getpid());
  std::filesystem::create_directories(dir);
  const std::filesystem::path script = dir / "silent.sh";
  {
    std::ofstream out(script);
    out << "#!/bin/sh\nexec sleep 60\n";
  }
  std::filesystem::permissions(script, std::filesystem::perms::owner_all);
  silent_server = new SignoffdProcess(script.string(), dir, {});
  silent_server->SetStartSeconds(1);
  EXPECT_FATAL_FAILURE(silent_server->Start(), "no port named within the start time limit");
  delete silent_server;
  silent_server = nullptr;
  std::filesystem::remove_all(dir);
}

}  // namespace
}  // namespace signoff::testing
