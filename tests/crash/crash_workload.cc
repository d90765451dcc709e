#include "crash_workload.h"

#include <utility>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "api_client.h"

namespace signoff::testing {

namespace {

// Bounds each writer even if it is never stopped; the test stops the
// writers long before, at its kill point.
constexpr int kMaxStartsPerWriter = 2000;

constexpr char kMarkerPrefix[] = "crash marker ";

void SetString(google::protobuf::Struct& form, const std::string& field, const std::string& value) {
  (*form.mutable_fields())[field].set_string_value(value);
}

}  // namespace

google::protobuf::Struct CrashForm(const std::string& marker) {
  google::protobuf::Struct form;
  SetString(form, "dealer_id", "D-1001");
  SetString(form, "application_type", "account");
  SetString(form, "region", "sales-east");
  SetString(form, "description", absl::StrCat(kMarkerPrefix, marker));
  return form;
}

std::string MarkerOf(const google::protobuf::Struct& form) {
  auto description = form.fields().find("description");
  if (description == form.fields().end()) return "";
  const std::string& text = description->second.string_value();
  if (!absl::StartsWith(text, kMarkerPrefix)) return "";
  return text.substr(sizeof(kMarkerPrefix) - 1);
}

Workload::Workload(std::shared_ptr<grpc::Channel> channel, std::vector<WriterRole> roles,
                   std::string tag, KillPlan plan, std::function<void()> kill)
    : channel_(std::move(channel)),
      roles_(std::move(roles)),
      tag_(std::move(tag)),
      plan_(plan),
      kill_(std::move(kill)) {}

Workload::~Workload() { StopAndCollect(); }

void Workload::Start() {
  logs_.resize(roles_.size());
  for (size_t writer = 0; writer < roles_.size(); ++writer) {
    threads_.emplace_back([this, writer] { Write(writer, logs_[writer]); });
  }
}

bool Workload::WaitForKill(absl::Duration timeout) {
  std::unique_lock<std::mutex> lock(mutex_);
  return killed_changed_.wait_for(lock, absl::ToChronoMilliseconds(timeout),
                                  [&] { return killed_; });
}

WorkloadLog Workload::StopAndCollect() {
  stop_ = true;
  for (auto& thread : threads_) thread.join();
  threads_.clear();
  WorkloadLog all;
  for (auto& log : logs_) {
    for (auto& start : log.starts) all.starts.push_back(std::move(start));
    for (auto& decision : log.decisions) all.decisions.push_back(std::move(decision));
  }
  logs_.clear();
  return all;
}

void Workload::Acknowledged() {
  if (++acknowledged_ != plan_.acknowledgments) return;
  // Not a wait for anything: it moves the kill to a random point after the
  // trigger.
  std::this_thread::sleep_for(absl::ToChronoMicroseconds(plan_.delay));
  kill_started_ = true;
  stop_ = true;
  kill_();
  {
    std::lock_guard<std::mutex> lock(mutex_);
    killed_ = true;
  }
  killed_changed_.notify_all();
}

void Workload::Write(size_t writer, WorkloadLog& log) {
  // Its own client: ApiClient keeps the last call's error details.
  ApiClient client(channel_);
  const WriterRole& role = roles_[writer];
  for (int n = 0; n < kMaxStartsPerWriter && !stop_; ++n) {
    const std::string marker = absl::StrCat(tag_, "-w", writer, "-n", n);
    SentStart start;
    start.caller = role.applicant;
    start.marker = marker;
    start.approver = role.approver;
    start.request.set_request_id(absl::StrCat("start-", marker));
    start.request.set_definition_key(kCrashDefinition);
    *start.request.mutable_form() = CrashForm(marker);
    bool sent_after_kill = kill_started_;
    auto started = client.Call(start.caller, *client.instances,
                               &v1::InstanceService::Stub::StartInstance, start.request);
    start.answered_after_kill = kill_started_;
    start.in_flight_at_kill = !sent_after_kill && start.answered_after_kill;
    start.status = started.status();
    if (started.ok()) Acknowledged();
    if (started.ok()) start.reply = *started;
    log.starts.push_back(std::move(start));
    if (!started.ok() || stop_) continue;

    // The manager's task; the checks report an acknowledged start without one.
    std::string task_id;
    for (const auto& task : started->instance().pending_tasks()) {
      if (task.assignee() == role.approver) task_id = task.id();
    }
    if (task_id.empty() || stop_) continue;
    SentDecision decision;
    decision.caller = role.approver;
    decision.marker = marker;
    decision.instance_id = started->instance().id();
    decision.request.set_request_id(absl::StrCat("approve-", marker));
    decision.request.set_task_id(task_id);
    decision.request.set_action(v1::APPROVE);
    sent_after_kill = kill_started_;
    auto decided = client.Call(decision.caller, *client.tasks, &v1::TaskService::Stub::DecideTask,
                               decision.request);
    decision.answered_after_kill = kill_started_;
    decision.in_flight_at_kill = !sent_after_kill && decision.answered_after_kill;
    decision.status = decided.status();
    if (decided.ok()) Acknowledged();
    if (decided.ok()) decision.reply = *decided;
    log.decisions.push_back(std::move(decision));
  }
}

}  // namespace signoff::testing
