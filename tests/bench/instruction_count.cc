#include "instruction_count.h"

#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <fstream>
#include <memory>
#include <set>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_split.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "child_process.h"
#include "load.h"
#include "workloads.h"

namespace signoff::bench {

namespace {

// signoffd under callgrind runs tens of times slower: seeding alone takes
// a while.
constexpr absl::Duration kStartTimeout = absl::Seconds(300);
// Decisions before counting, so that first-call costs (caches, lazily
// built state) are not counted.
constexpr int kWarmUpDecisions = 5;

constexpr char kOutputName[] = "callgrind.out";

// Runs callgrind_control with `option` on `pid`; it waits for the server
// to act on it.
absl::Status ControlCallgrind(const std::string& option, pid_t pid) {
  const std::string command =
      absl::StrCat("callgrind_control ", option, " ", pid, " > /dev/null 2>&1");
  if (std::system(command.c_str()) != 0) {
    return absl::InternalError(absl::StrCat("`", command, "` failed"));
  }
  return absl::OkStatus();
}

std::set<std::filesystem::path> DumpFiles(const std::filesystem::path& dir) {
  std::set<std::filesystem::path> files;
  for (const auto& entry : std::filesystem::directory_iterator(dir)) {
    if (entry.path().filename().string().rfind(kOutputName, 0) == 0) files.insert(entry.path());
  }
  return files;
}

// The "summary:" line of a callgrind dump: the instructions it counted.
absl::StatusOr<uint64_t> InstructionsIn(const std::filesystem::path& dump) {
  std::ifstream file(dump);
  std::string line;
  for (int lines = 0; lines < 100000 && std::getline(file, line); ++lines) {
    absl::string_view rest = line;
    if (!absl::ConsumePrefix(&rest, "summary:")) continue;
    uint64_t instructions = 0;
    if (absl::SimpleAtoi(absl::StripAsciiWhitespace(rest), &instructions)) return instructions;
  }
  return absl::InternalError(absl::StrCat("no summary line in ", dump.string()));
}

absl::Status MustSucceed(const LoadResult& result, const std::string& what) {
  if (result.errors == 0) return absl::OkStatus();
  return absl::InternalError(absl::StrCat(what, ": ", result.first_error));
}

}  // namespace

std::string FindOnPath(const std::string& program) {
  const char* path = std::getenv("PATH");
  for (absl::string_view folder : absl::StrSplit(path == nullptr ? "" : path, ':')) {
    if (folder.empty()) continue;
    const std::filesystem::path candidate = std::filesystem::path(std::string(folder)) / program;
    if (access(candidate.c_str(), X_OK) == 0) return candidate.string();
  }
  return "";
}

absl::StatusOr<InstructionCount> CountDecisionInstructions(
    const std::vector<std::string>& signoffd_args, const std::filesystem::path& dir, int decisions) {
  const std::string valgrind = FindOnPath("valgrind");
  if (valgrind.empty()) return absl::NotFoundError("valgrind is not installed");
  std::vector<std::string> args = {valgrind, "--tool=callgrind",
                                   absl::StrCat("--callgrind-out-file=", (dir / kOutputName).string())};
  args.insert(args.end(), signoffd_args.begin(), signoffd_args.end());
  ChildProcess server;
  absl::Status started = server.Start(args, dir / "signoffd-callgrind", kStartTimeout);
  if (!started.ok()) return started;

  auto channels = ConnectChannels(server.address(), 1);
  SignoffOperations operations(channels, "callgrind");
  auto pool = std::make_shared<TaskPool>();
  const int tasks = kWarmUpDecisions + decisions;
  absl::Status made = MustSucceed(RunSequentially(operations.Start(pool), tasks, 0), "starts");
  if (!made.ok()) return made;
  absl::Status warm = MustSucceed(
      RunSequentially(operations.DecisionFromPool(pool), kWarmUpDecisions, 0), "warm-up decisions");
  if (!warm.ok()) return warm;

  absl::Status zeroed = ControlCallgrind("--zero", server.pid());
  if (!zeroed.ok()) return zeroed;
  absl::Status decided = MustSucceed(
      RunSequentially(operations.DecisionFromPool(pool), decisions, kWarmUpDecisions), "decisions");
  if (!decided.ok()) return decided;
  const std::set<std::filesystem::path> before = DumpFiles(dir);
  absl::Status dumped = ControlCallgrind("--dump", server.pid());
  if (!dumped.ok()) return dumped;
  server.Stop();

  for (const auto& file : DumpFiles(dir)) {
    if (before.count(file) > 0 || file.filename() == kOutputName) continue;
    auto instructions = InstructionsIn(file);
    if (!instructions.ok()) return instructions.status();
    return InstructionCount{decisions, *instructions};
  }
  return absl::InternalError("callgrind wrote no dump for the decisions");
}

}  // namespace signoff::bench
