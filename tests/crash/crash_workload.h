#pragma once

// The traffic the crash test kills signoffd under: writer threads that file
// dealer applications and have the applicant's manager approve them. Every
// request is recorded as sent, with its outcome, so that after a restart the
// test can check what the server acknowledged and resend what it did not.

#include <grpcpp/grpcpp.h>

#include <atomic>
#include <condition_variable>
#include <cstdint>
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

class Workload {
 public:
  // `tag` prefixes every marker and request_id of this workload.
  Workload(std::shared_ptr<grpc::Channel> channel, std::vector<WriterRole> roles,
           std::string tag);
  ~Workload();

  // Starts one writer thread per role.
  void Start();
  // Waits until the writers have sent `count` requests in all; false when
  // `timeout` passed first.
  bool WaitUntilSent(int64_t count, absl::Duration timeout);
  // Called just before the server is killed: errors that arrive from now on
  // are not the server's answer.
  void KillStarting() { kill_started_ = true; }
  // Stops the writers, waits for them and returns what they sent.
  WorkloadLog StopAndCollect();

 private:
  void Write(size_t writer, WorkloadLog& log);
  void CountSent();

  std::shared_ptr<grpc::Channel> channel_;
  std::vector<WriterRole> roles_;
  std::string tag_;
  std::vector<WorkloadLog> logs_;
  std::vector<std::thread> threads_;
  std::atomic<bool> stop_{false};
  std::atomic<bool> kill_started_{false};
  std::mutex mutex_;
  std::condition_variable sent_changed_;
  int64_t sent_ = 0;
};

}  // namespace signoff::testing
