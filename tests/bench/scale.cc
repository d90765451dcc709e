#include "scale.h"

#include <atomic>
#include <cstdio>
#include <fstream>
#include <map>
#include <memory>
#include <mutex>
#include <thread>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/strip.h"
#include "absl/time/clock.h"
#include "child_process.h"
#include "workloads.h"

namespace signoff::bench {

namespace {

constexpr absl::Duration kStartTimeout = absl::Seconds(120);
constexpr auto kCallTimeout = std::chrono::seconds(60);

// Who reads. The bulk load takes applicants in turn from the demo
// organisation's users who have a manager; alice.chen manages three of
// them, so dealer applications fill her inbox, and helen.qin is one of the
// two partner managers, whose group queue holds every partner
// termination's warning.
constexpr char kAssignee[] = "alice.chen";
constexpr char kRoleHolder[] = "helen.qin";
// Reads every instance: the demo organisation's auditor.
constexpr char kReader[] = "olivia.ke";
constexpr char kTimerDefinition[] = "partner-termination";

std::string Rfc3339(absl::Time time) {
  return absl::FormatTime(absl::RFC3339_full, time, absl::UTCTimeZone());
}

absl::Status BulkLoad(const std::filesystem::path& db, int64_t instances,
                      const std::vector<std::string>& definitions, const std::string& as_of) {
  std::fprintf(stderr, "signoff_bench: bulk-loading %lld instances into %s\n",
               static_cast<long long>(instances), db.c_str());
  std::vector<std::string> args = SignoffdCommand("bulk-load", db);
  // A fill, not the figure under test: what a crash would lose can be
  // loaded again.
  for (std::string flag : {"--synchronous", "NORMAL", "--threads", "16", "--instances"}) {
    args.push_back(flag);
  }
  args.push_back(absl::StrCat(instances));
  for (const auto& key : definitions) {
    args.push_back("--definition");
    args.push_back(key);
  }
  if (!as_of.empty()) {
    args.push_back("--as-of");
    args.push_back(as_of);
  }
  return RunToEnd(args, db.string() + ".bulk-load.out");
}

void Prepare(grpc::ClientContext& context, const std::string& user) {
  context.AddMetadata("x-signoff-user", user);
  context.set_deadline(std::chrono::system_clock::now() + kCallTimeout);
}

absl::Status Failed(const char* what, const grpc::Status& status) {
  return absl::InternalError(absl::StrCat(what, ": code ", static_cast<int>(status.error_code()),
                                          ": ", status.error_message()));
}

// Starts signoffd on `db` and waits for its first answer; gives how long
// that took.
absl::StatusOr<absl::Duration> ServeUntilItAnswers(const std::filesystem::path& db,
                                                   ChildProcess& server) {
  const absl::Time began = absl::Now();
  absl::Status started = server.Start(ServeCommand(db), db.string() + ".signoffd", kStartTimeout);
  if (!started.ok()) return started;
  auto stub = v1::TaskService::NewStub(
      grpc::CreateChannel(server.address(), grpc::InsecureChannelCredentials()));
  grpc::ClientContext context;
  Prepare(context, kAssignee);
  context.set_wait_for_ready(true);
  v1::ListTasksResponse inbox;
  grpc::Status answered = stub->ListTasks(&context, v1::ListTasksRequest(), &inbox);
  if (!answered.ok()) return Failed("first call", answered);
  return absl::Now() - began;
}

// A "VmRSS:   1234 kB" line of /proc/<pid>/status, in KiB; 0 when absent.
int64_t ProcStatusKib(pid_t pid, const std::string& field) {
  std::ifstream status(absl::StrCat("/proc/", pid, "/status"));
  std::string line;
  while (std::getline(status, line)) {
    if (!absl::StartsWith(line, field + ":")) continue;
    absl::string_view value = absl::StripAsciiWhitespace(absl::string_view(line).substr(field.size() + 1));
    absl::ConsumeSuffix(&value, " kB");
    int64_t kib = 0;
    return absl::SimpleAtoi(value, &kib) ? kib : 0;
  }
  return 0;
}

int64_t FileBytes(const std::filesystem::path& path) {
  std::error_code missing;
  const auto size = std::filesystem::file_size(path, missing);
  return missing ? 0 : static_cast<int64_t>(size);
}

// Instances of `key`, newest first, at most `max_pages` pages of `page_size`.
absl::StatusOr<std::vector<v1::InstanceView>> ListInstances(v1::InstanceService::Stub& stub,
                                                             const std::string& key, int page_size,
                                                             int max_pages) {
  std::vector<v1::InstanceView> instances;
  v1::ListInstancesRequest request;
  request.set_definition_key(key);
  request.set_page_size(page_size);
  for (int page = 0; page < max_pages; ++page) {
    grpc::ClientContext context;
    Prepare(context, kReader);
    v1::ListInstancesResponse reply;
    grpc::Status listed = stub.ListInstances(&context, request, &reply);
    if (!listed.ok()) return Failed("ListInstances", listed);
    for (auto& instance : *reply.mutable_instances()) instances.push_back(std::move(instance));
    if (reply.next_page_token().empty()) break;
    request.set_page_token(reply.next_page_token());
  }
  return instances;
}

// Two weeks before now, moved back to a weekday, at 10:00 in Shanghai: the
// partner terminations' calendar counts working time there, so every
// warning deadline (one working day) has passed by now, and instances
// loaded one after another get deadlines one after another.
std::string TwoWorkingWeeksAgo() {
  absl::TimeZone shanghai;
  if (!absl::LoadTimeZone("Asia/Shanghai", &shanghai)) shanghai = absl::FixedTimeZone(8 * 3600);
  absl::CivilDay day = absl::ToCivilDay(absl::Now() - absl::Hours(14 * 24), shanghai);
  while (absl::GetWeekday(day) == absl::Weekday::saturday ||
         absl::GetWeekday(day) == absl::Weekday::sunday) {
    --day;
  }
  return Rfc3339(absl::FromCivil(absl::CivilHour(day.year(), day.month(), day.day(), 10), shanghai));
}

absl::Time TimeOf(const google::protobuf::Timestamp& timestamp) {
  return absl::FromUnixSeconds(timestamp.seconds()) + absl::Nanoseconds(timestamp.nanos());
}

// What the histories of the timer instances show.
struct Firings {
  int64_t timers = 0;
  int64_t duplicates = 0;
  std::vector<std::string> unfired;
  absl::Time last = absl::InfinitePast();
};

// Reads every instance's history, on several threads, and counts its
// timer firings by timer id.
absl::StatusOr<Firings> ReadFirings(const std::string& address,
                                    const std::vector<std::string>& ids) {
  constexpr int kReaders = 8;
  Firings firings;
  std::mutex mutex;
  absl::Status failure;
  std::atomic<size_t> next{0};
  auto read = [&] {
    auto stub = v1::InstanceService::NewStub(
        grpc::CreateChannel(address, grpc::InsecureChannelCredentials()));
    for (size_t at = next++; at < ids.size(); at = next++) {
      grpc::ClientContext context;
      Prepare(context, kReader);
      v1::GetHistoryRequest request;
      request.set_instance_id(ids[at]);
      v1::GetHistoryResponse history;
      grpc::Status read = stub->GetHistory(&context, request, &history);
      std::map<std::string, int> by_timer;
      absl::Time last = absl::InfinitePast();
      for (const auto& event : history.events()) {
        if (!event.has_timer_fired()) continue;
        ++by_timer[event.timer_fired().timer_id()];
        last = std::max(last, TimeOf(event.time()));
      }
      std::lock_guard<std::mutex> lock(mutex);
      if (!read.ok()) {
        failure = Failed("GetHistory", read);
        return;
      }
      if (by_timer.empty()) firings.unfired.push_back(ids[at]);
      firings.timers += static_cast<int64_t>(by_timer.size());
      for (const auto& [timer, count] : by_timer) firings.duplicates += count - 1;
      firings.last = std::max(firings.last, last);
    }
  };
  std::vector<std::thread> readers;
  for (int i = 0; i < kReaders; ++i) readers.emplace_back(read);
  for (auto& reader : readers) reader.join();
  if (!failure.ok()) return failure;
  return firings;
}

}  // namespace

absl::StatusOr<ScaleFigures> MeasureScale(const ScaleSettings& settings,
                                          const std::filesystem::path& dir) {
  ScaleFigures figures;
  figures.instances = settings.instances;
  const std::filesystem::path db = dir / "scale.db";
  const absl::Time began = absl::Now();
  absl::Status loaded =
      BulkLoad(db, settings.instances, {"dealer-application", kTimerDefinition}, "");
  if (!loaded.ok()) return loaded;
  figures.loaded_per_second = settings.instances / absl::ToDoubleSeconds(absl::Now() - began);
  figures.bytes_per_instance =
      static_cast<double>(FileBytes(db) + FileBytes(db.string() + "-wal")) / settings.instances;

  ChildProcess server;
  auto cold_start = ServeUntilItAnswers(db, server);
  if (!cold_start.ok()) return cold_start.status();
  figures.cold_start = *cold_start;
  const auto channels = ConnectChannels(server.address(), 4);
  auto instances = v1::InstanceService::NewStub(channels.front());
  // GetInstance reads the newest instances (ids are time-ordered); a
  // lookup by primary key costs the same wherever the row is.
  auto listed = ListInstances(*instances, "", 500, 4);
  if (!listed.ok()) return listed.status();
  auto ids = std::make_shared<std::vector<std::string>>();
  for (const auto& instance : *listed) ids->push_back(instance.id());

  SignoffOperations operations(channels, "scale");
  const std::pair<std::string, Operation> reads[] = {
      {absl::StrCat("inbox, assignee ", kAssignee), operations.InboxRead(kAssignee)},
      {absl::StrCat("inbox, role holder ", kRoleHolder), operations.InboxRead(kRoleHolder)},
      {"GetInstance", operations.GetInstance(ids, kReader)}};
  for (const auto& [name, read] : reads) {
    for (int clients : settings.client_counts) figures.reads.push_back({name, clients, {}});
  }
  for (int round = 0; round < settings.rounds; ++round) {
    std::fprintf(stderr, "signoff_bench: reads on %lld instances, round %d of %d\n",
                 static_cast<long long>(settings.instances), round + 1, settings.rounds);
    auto figure = figures.reads.begin();
    for (const auto& [name, read] : reads) {
      for (int clients : settings.client_counts) {
        (figure++)->runs.push_back(RunClosedLoop(read, clients, settings.run));
      }
    }
  }
  figures.rss_kib = ProcStatusKib(server.pid(), "VmRSS");
  figures.peak_rss_kib = ProcStatusKib(server.pid(), "VmHWM");
  server.Stop();
  return figures;
}

absl::StatusOr<TimerFigures> MeasureTimers(const TimerSettings& settings,
                                           const std::filesystem::path& dir) {
  TimerFigures figures;
  figures.instances = settings.instances;
  const std::filesystem::path db = dir / "timers.db";
  absl::Status loaded = BulkLoad(db, settings.instances, {kTimerDefinition}, TwoWorkingWeeksAgo());
  if (!loaded.ok()) return loaded;

  std::fprintf(stderr, "signoff_bench: %lld overdue timers firing\n",
               static_cast<long long>(settings.instances));
  ChildProcess server;
  const absl::Time began = absl::Now();
  absl::Status started = server.Start(ServeCommand(db), db.string() + ".signoffd", kStartTimeout);
  if (!started.ok()) return started;
  const auto channels = ConnectChannels(server.address(), 4);
  auto instances = v1::InstanceService::NewStub(channels.front());
  // Timers are claimed oldest first, and the newest instances' deadlines
  // are the latest: once those fired, the rest should have. The histories
  // below tell for sure.
  auto newest_fired = [&]() -> absl::StatusOr<bool> {
    auto newest = ListInstances(*instances, kTimerDefinition, 20, 1);
    if (!newest.ok()) return newest.status();
    for (const auto& instance : *newest) {
      if (!instance.sla_breached()) return false;
    }
    return !newest->empty();
  };
  for (int slice = 0;; ++slice) {
    // Request ids of their own per slice: a repeated one would only replay
    // its first answer.
    SignoffOperations operations(channels, absl::StrCat("timers", slice));
    figures.decisions.push_back(
        RunClosedLoop(operations.Decision(), settings.clients, absl::Seconds(1)));
    auto fired = newest_fired();
    if (!fired.ok()) return fired.status();
    if (*fired) break;
    if (absl::Now() - began > settings.limit) break;
  }

  auto all = ListInstances(*instances, kTimerDefinition, 500, 1 << 20);
  if (!all.ok()) return all.status();
  std::vector<std::string> ids;
  for (const auto& instance : *all) ids.push_back(instance.id());
  std::fprintf(stderr, "signoff_bench: reading %zu histories for their timer firings\n",
               ids.size());
  Firings firings;
  // Instances still waiting are read again until they fired too.
  while (true) {
    auto read = ReadFirings(server.address(), ids);
    if (!read.ok()) return read.status();
    firings.timers += read->timers;
    firings.duplicates += read->duplicates;
    firings.last = std::max(firings.last, read->last);
    firings.unfired = std::move(read->unfired);
    if (firings.unfired.empty() || absl::Now() - began > settings.limit) break;
    ids = firings.unfired;
    std::this_thread::sleep_for(std::chrono::milliseconds(500));
  }
  figures.timers_fired = firings.timers;
  figures.duplicates = firings.duplicates;
  figures.instances_unfired = static_cast<int64_t>(firings.unfired.size());
  figures.to_fire_all = firings.last - began;
  server.Stop();
  return figures;
}

}  // namespace signoff::bench
