// The crash suite: the real signoffd, on SQLite with synchronous=FULL, is
// killed with SIGKILL while eight writers' calls are in flight, restarted on
// the same database and checked (see crash_checks.h), cycle after cycle.
//
// SIGNOFF_CRASH_CYCLES sets the number of cycles (default 3).
// SIGNOFF_CRASH_SEED sets the seed; cycle k draws its kill point from
// seed + k, so SIGNOFF_CRASH_SEED=<seed + k> SIGNOFF_CRASH_CYCLES=1 repeats
// cycle k's kill point (the threads' interleaving is the machine's).
#include <grpcpp/grpcpp.h>
#include <signal.h>
#include <unistd.h>

#include <chrono>
#include <cstdint>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <random>
#include <string>
#include <vector>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "api_client.h"
#include "crash_checks.h"
#include "crash_workload.h"
#include "gtest/gtest.h"
#include "signoffd_process.h"

namespace signoff::testing {
namespace {

constexpr int kDefaultCycles = 3;
// The kill comes after 1 to this many acknowledgments in a cycle (see
// KillPlan),
constexpr int64_t kMostAcknowledgmentsBeforeKill = 400;
// and in half the cycles up to this much later: aimed at the rest of that
// acknowledgment's group commit,
constexpr int kMostShortKillDelayMicros = 100;
// in the other half up to this much: anywhere in the calls in flight.
constexpr int kMostLongKillDelayMicros = 3000;

// Each writer files applications as one applicant, approved by their manager.
const std::vector<WriterRole>& Roles() {
  static const auto* roles = new std::vector<WriterRole>{
      {"bob.zhang", "alice.chen"}, {"cathy.wu", "alice.chen"},  {"derek.huang", "alice.chen"},
      {"fiona.yang", "eric.zhou"}, {"george.xie", "eric.zhou"}, {"alice.chen", "ivy.wang"},
      {"eric.zhou", "jack.sun"},   {"rachel.feng", "grace.liu"}};
  return *roles;
}

struct Totals {
  int64_t cycles = 0;
  int64_t sent = 0;
  int64_t acknowledged = 0;
  int64_t in_flight_at_kill = 0;
  CheckCounts checks;
  // Cycles that could not run to their checks: a server that did not start
  // or answer, writers that did not reach the kill point.
  int64_t broken_cycles = 0;

  void Add(const WorkloadLog& log, const CheckCounts& cycle_checks) {
    ++cycles;
    for (const auto& start : log.starts) Count(start.status, start.in_flight_at_kill);
    for (const auto& decision : log.decisions) Count(decision.status, decision.in_flight_at_kill);
    checks.resent += cycle_checks.resent;
    checks.resent_after_effect += cycle_checks.resent_after_effect;
    checks.replayed += cycle_checks.replayed;
    checks.instances += cycle_checks.instances;
    checks.failures += cycle_checks.failures;
  }

  std::string Describe() const {
    return absl::StrCat(
        "cycles ", cycles, ", requests sent ", sent, ", acknowledged ", acknowledged,
        ", in flight at kill ", in_flight_at_kill, ", resent ", checks.resent, " (",
        checks.resent_after_effect, " had taken effect), acknowledged sent again ", checks.replayed,
        ", instances checked ", checks.instances, ", failures ", checks.failures + broken_cycles);
  }

 private:
  void Count(const absl::Status& status, bool in_flight) {
    ++sent;
    acknowledged += status.ok();
    in_flight_at_kill += in_flight;
  }
};

// An unsigned integer from the environment, or `fallback` when unset; false
// when set to something else.
bool FromEnvironment(const char* name, uint64_t fallback, uint64_t* value) {
  const char* text = std::getenv(name);
  if (text == nullptr || *text == '\0') {
    *value = fallback;
    return true;
  }
  return absl::SimpleAtoi(text, value);
}

// A channel to `server`, or null (and a test failure) when it does not answer.
std::shared_ptr<grpc::Channel> Connect(const SignoffdProcess& server) {
  auto channel = grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials());
  if (channel->WaitForConnected(std::chrono::system_clock::now() + std::chrono::seconds(10))) {
    return channel;
  }
  ADD_FAILURE() << "cannot connect to signoffd at " << server.address();
  return nullptr;
}

class CrashCycle {
 public:
  CrashCycle(int cycle, uint64_t seed)
      : cycle_(cycle),
        seed_(seed),
        context_(absl::StrCat("cycle ", cycle, " (SIGNOFF_CRASH_SEED=", seed,
                              " SIGNOFF_CRASH_CYCLES=1 repeats its kill point)")),
        dir_(std::filesystem::temp_directory_path() /
             absl::StrCat("signoff-crash-", ::getpid(), "-", cycle)) {}

  // Runs the cycle; false when it failed.
  bool Run(Totals& totals) {
    std::filesystem::remove_all(dir_);
    std::filesystem::create_directories(dir_);
    std::mt19937_64 random(seed_);
    KillPlan plan;
    plan.acknowledgments =
        std::uniform_int_distribution<int64_t>(1, kMostAcknowledgmentsBeforeKill)(random);
    const bool short_delay = std::bernoulli_distribution(0.5)(random);
    plan.delay = absl::Microseconds(std::uniform_int_distribution<int>(
        0, short_delay ? kMostShortKillDelayMicros : kMostLongKillDelayMicros)(random));

    const std::string definitions = std::string(SIGNOFF_SOURCE_DIR) + "/workflow/definitions";
    SignoffdProcess server(SIGNOFFD_BINARY, dir_,
                           {"--synchronous", "FULL", "--directory", definitions + "/demo-org.yaml",
                            "--definitions", definitions});
    // From this (the main) thread: the server dies with the thread that
    // started it.
    server.Start();
    if (::testing::Test::HasFatalFailure()) return Broken(totals);
    auto channel = Connect(server);
    if (channel == nullptr) return Broken(totals);

    Workload workload(channel, Roles(), absl::StrCat("c", cycle_), plan,
                      [pid = server.pid()] { ::kill(pid, SIGKILL); });
    workload.Start();
    if (!workload.WaitForKill(absl::Seconds(60))) {
      ADD_FAILURE() << context_ << ": the writers did not get " << plan.acknowledgments
                    << " acknowledgments within 60 s";
      return Broken(totals);
    }
    // Reaps the killed server.
    server.Kill(SIGKILL);
    const WorkloadLog log = workload.StopAndCollect();

    server.Start();
    if (::testing::Test::HasFatalFailure()) return Broken(totals);
    channel = Connect(server);
    if (channel == nullptr) return Broken(totals);
    ApiClient client(channel);
    const CheckCounts checks = CheckAfterRestart(client, log, context_);
    totals.Add(log, checks);
    std::cout << "crash " << context_ << ": killed " << absl::ToInt64Microseconds(plan.delay)
              << " us after acknowledgment " << plan.acknowledgments << "; sent "
              << log.starts.size() + log.decisions.size() << ", resent " << checks.resent << " ("
              << checks.resent_after_effect << " had taken effect), instances " << checks.instances
              << ", failures " << checks.failures << std::endl;
    if (checks.failures > 0) return Keep();
    server.Kill(SIGKILL);
    std::filesystem::remove_all(dir_);
    return true;
  }

 private:
  bool Broken(Totals& totals) {
    ++totals.broken_cycles;
    return Keep();
  }

  // Leaves the database and the server's log for whoever investigates.
  bool Keep() {
    std::cout << "crash " << context_ << " failed; its database and log are in " << dir_
              << std::endl;
    return false;
  }

  const int cycle_;
  const uint64_t seed_;
  const std::string context_;
  const std::filesystem::path dir_;
};

TEST(CrashTest, AcknowledgedChangesSurviveSigkillAndResendsTakeEffectOnce) {
  uint64_t cycles = 0;
  ASSERT_TRUE(FromEnvironment("SIGNOFF_CRASH_CYCLES", kDefaultCycles, &cycles) && cycles > 0)
      << "SIGNOFF_CRASH_CYCLES must be a positive integer";
  uint64_t seed = 0;
  ASSERT_TRUE(FromEnvironment("SIGNOFF_CRASH_SEED", std::random_device()(), &seed))
      << "SIGNOFF_CRASH_SEED must be a non-negative integer";
  std::cout << "crash: seed " << seed << ", " << cycles << " cycles" << std::endl;

  Totals totals;
  const auto began = std::chrono::steady_clock::now();
  for (uint64_t cycle = 0; cycle < cycles; ++cycle) {
    // A failed cycle keeps its database; later ones would only add noise.
    if (!CrashCycle(static_cast<int>(cycle), seed + cycle).Run(totals)) break;
  }
  const auto seconds =
      std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - began)
          .count();
  std::cout << "crash summary: " << totals.Describe() << " (seed " << seed << ", " << seconds
            << " s)" << std::endl;
  EXPECT_EQ(totals.cycles, static_cast<int64_t>(cycles));
}

}  // namespace
}  // namespace signoff::testing
