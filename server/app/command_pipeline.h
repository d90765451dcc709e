#pragma once

#include <atomic>

#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "google/protobuf/message.h"
#include "server/app/access_control.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "signoff/v1/command.pb.h"
#include "storage/store.h"

namespace signoff::app {

// A command on one instance, as a service hands it to the pipeline.
struct InstanceCommand {
  // The RPC's name: recorded with the idempotency record.
  std::string method;
  // The request as received; its digest tells a repeat from a reuse of
  // the request_id.
  const google::protobuf::Message* request = nullptr;
  std::string request_id;
  // The instance acted on; empty for a start.
  std::string instance_id;
  // Set when the caller named a task rather than an instance, so that a
  // missing instance reads as a missing task.
  std::string task_id;
  v1::Command command;
  // Fills the reply from the state as committed and the definition it runs
  // on.
  using ReplyBuilder = std::function<void(const v1::InstanceState&, const v1::WorkflowDefinition&,
                                          google::protobuf::Message&)>;
  ReplyBuilder reply;
  // Set for a job command made under an activation's key: the commit
  // holds only while that activation still holds the job.
  std::optional<storage::JobLeaseCheck> job_lease;
  // Set for a start made by a definition's schedule: recorded with the
  // instance, so that the run starts once per subject.
  std::optional<storage::ScheduleStart> schedule_start;
};

// A change that is not an engine command: publishing, directory changes.
struct PlainChange {
  std::string method;
  const google::protobuf::Message* request = nullptr;
  std::string request_id;
  // Builds the mutation and fills the reply; called again after a
  // conflicting commit.
  std::function<absl::StatusOr<storage::Mutation>(google::protobuf::Message& reply)> build;
};

// What a commit stored, for whoever follows changes (event stream,
// metrics, notifications).
struct Committed {
  const Caller& caller;
  const std::string& method;
  // As stored: with sequence numbers and hashes.
  const std::vector<v1::Event>& events;
};
using PostCommitHook = std::function<void(const Committed&)>;

// The one path every change takes:
//   authenticate -> idempotency -> load -> workflow::Apply -> commit ->
//   post-commit hooks.
// A repeated request_id (per caller) returns the first reply and changes
// nothing; a commit that lost a race with another is retried from the load.
class CommandPipeline {
 public:
  explicit CommandPipeline(AppContext& context) : context_(context), access_(context) {}

  // Hooks run on the committing thread after the commit, in the order
  // added; they must not block. Add them before serving.
  void AddPostCommitHook(PostCommitHook hook) { hooks_.push_back(std::move(hook)); }

  // Counted for metrics.
  struct Counters {
    // Commands answered with the reply of an earlier one with their
    // request_id.
    std::atomic<uint64_t> replays{0};
    // Commits refused because the instance changed meanwhile, and tried
    // again.
    std::atomic<uint64_t> conflict_retries{0};
  };
  const Counters& counters() const { return counters_; }

  absl::Status Run(const Caller& caller, const InstanceCommand& command,
                   google::protobuf::Message& reply);
  absl::Status Run(const Caller& caller, const PlainChange& change,
                   google::protobuf::Message& reply);

 private:
  using Attempt =
      std::function<absl::StatusOr<storage::Mutation>(google::protobuf::Message& reply)>;

  absl::Status Commit(const Caller& caller, const std::string& method,
                      const google::protobuf::Message& request, const std::string& request_id,
                      const Attempt& attempt, google::protobuf::Message& reply);
  absl::StatusOr<storage::Mutation> ApplyCommand(const Caller& caller,
                                                 const InstanceCommand& command,
                                                 google::protobuf::Message& reply);

  AppContext& context_;
  AccessControl access_;
  std::vector<PostCommitHook> hooks_;
  Counters counters_;
};

// A short, stable digest of a message's content, for request_ids that
// signoffd makes for its own changes.
std::string ContentDigest(const google::protobuf::Message& message);

// INVALID_ARGUMENT unless request_id is present, bounded, and not in
// signoffd's reserved namespace.
absl::Status CheckRequestId(const Caller& caller, const std::string& request_id);

}  // namespace signoff::app
