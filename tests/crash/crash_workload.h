#pragma once

// The traffic the crash test kills signoffd under: writer threads that file
// dealer applications and have the applicant's manager approve them. Every
// request is recorded as sent, with its outcome, so that after a restart the
// test can check what the server acknowledged and resend what it did not.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
#include <functional>
#include <memory>
#include <mutex>
#include <string>
#include <thread>
#include <vector>

#include "absl/status/status.h"
#include "absl/time/time.h"
#include "signoff/v1/service.pb.h"

namespace signoff::testing {

// The shipped definition the writers start: its first step is an approval
// by the applicant's manager, and it allows many open instances per dealer.
inline constexpr char kCrashDefinition[] = "dealer-application";

// An applicant of the demo organisation and the manager who endorses their
// applications.
struct WriterRole {
  std::string applicant;
  std::string approver;
};

// One StartInstance as sent and what came back.
struct SentStart {
  std::string caller;
  // Unique per start and carried in the form, so the instances a start
  // made can be counted whatever ids they got.
  std::string marker;
  // The manager whose task the start's reply should hold.
  std::string approver;
  v1::StartInstanceRequest request;
  absl::Status status = absl::UnknownError("not sent");
  // Set when status is OK.
  v1::InstanceResponse reply;
  // The reply arrived once the kill had begun, so an error may be the
  // crash's rather than the server's answer.
  bool answered_after_kill = false;
  // Sent before the kill began and answered after: in flight when it hit.
  bool in_flight_at_kill = false;
};

// One DecideTask (APPROVE) as sent and what came back. Only sent for an
// acknowledged start, on the approver's task in that start's reply.
struct SentDecision {
  std::string caller;
  std::string marker;
  std::string instance_id;
  v1::DecideTaskRequest request;
  absl::Status status = absl::UnknownError("not sent");
  v1::DecideTaskResponse reply;
  bool answered_after_kill = false;
  bool in_flight_at_kill = false;
};

struct WorkloadLog {
  std::vector<SentStart> starts;
  std::vector<SentDecision> decisions;
};

// The form of a start: a valid account application whose description
// carries `marker`.
google::protobuf::Struct CrashForm(const std::string& marker);
// The marker in a form made by CrashForm, or "" when it carries none.
std::string MarkerOf(const google::protobuf::Struct& form);

// When the server is killed: `delay` after the writers got their
// `acknowledgments`th acknowledgment. The other writers' calls are in
// flight then. Right after an acknowledgment, the rest of its group commit
// is committed but perhaps not yet answered: a short delay aims there, where
// a resend must change nothing; a longer one lands anywhere in the calls.
struct KillPlan {
  int64_t acknowledgments = 1;
  absl::Duration delay;
};

class Workload {
 public:
  // `tag` prefixes every marker and request_id of this workload; `kill`
  // kills the server (from a writer's thread, at the plan's point).
  Workload(std::shared_ptr<grpc::Channel> channel, std::vector<WriterRole> roles, std::string tag,
           KillPlan plan, std::function<void()> kill);
  ~Workload();

  // Starts one writer thread per role.
  void Start();
  // Waits until the plan's kill was done; false when `timeout` passed first.
  bool WaitForKill(absl::Duration timeout);
  // Stops the writers, waits for them and returns what they sent.
  WorkloadLog StopAndCollect();

 private:
  void Write(size_t writer, WorkloadLog& log);
  // Counts an acknowledgment and kills the server at the plan's: from this
  // writer's thread, so no thread wake-up lies between the trigger and the
  // kill.
  void Acknowledged();

  std::shared_ptr<grpc::Channel> channel_;
  std::vector<WriterRole> roles_;
  std::string tag_;
  const KillPlan plan_;
  std::function<void()> kill_;
  std::vector<WorkloadLog> logs_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  // Set just before the kill: errors that arrive from then on need not be
  // the server's answer, and no new request is sent.
  std::atomic<bool> kill_started_{false};
  std::atomic<int64_t> acknowledged_{0};
  std::mutex mutex_;
  std::condition_variable killed_changed_;
  bool killed_ = false;
};

}  // namespace signoff::testing
