#pragma once

#include <optional>
#include <set>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "signoff/v1/command.pb.h"
#include "signoff/v1/service.pb.h"
#include "storage/store.h"
#include "workflow/access.h"

namespace signoff::app {

// Which events a follower of the feed gets, and how much of them.
struct WatchScope {
  // Unset: every definition's.
  std::optional<std::set<std::string>> definitions;
  // Definitions whose events come whole; the others' confidential form
  // fields are cleared.
  bool reads_every_definition = false;
  std::set<std::string> full_readership;

  bool Covers(const std::string& definition_key) const {
    return !definitions || definitions->count(definition_key) > 0;
  }
  bool ReadsWhole(const std::string& definition_key) const {
    return reads_every_definition || full_readership.count(definition_key) > 0;
  }
};

// Who reads which instance (workflow/access.h), applied to reads and
// commands. An instance the caller may not read is NOT_FOUND, worded as a
// missing one, so that ids cannot be probed.
class AccessControl {
 public:
  explicit AccessControl(AppContext& context) : context_(context) {}

  // What `reader` sees of `state`. The instance's recorded grants are read
  // only when the definition's readers and the state do not settle it.
  absl::StatusOr<workflow::Readership> ReadershipOf(const workflow::Reader& reader,
                                                    const v1::InstanceState& state);
  // ReadershipOf, NOT_FOUND when the reader may not see it.
  absl::StatusOr<workflow::Readership> RequireReadable(const workflow::Reader& reader,
                                                       const v1::InstanceState& state);

  // What a command's caller sees of the instance it acts on: as a reader,
  // or redacted for a service account the definition lets act on it, when
  // the command is one service accounts give (signals, task and clock
  // commands). NOT_FOUND when neither.
  absl::StatusOr<workflow::Readership> CommandReadership(
      const Caller& caller, const v1::Command& command, const v1::InstanceState& state,
      const v1::WorkflowDefinition& definition);

  // The stored instance; a missing one worded as NoSuchInstance, as an
  // invisible one is.
  absl::StatusOr<v1::InstanceState> LoadInstance(const std::string& id);

  // What the caller may follow of the event feed: auditors every
  // definition, service accounts with the watch-events permission the
  // definitions it is scoped to. PERMISSION_DENIED for everyone else.
  absl::StatusOr<WatchScope> WatchScopeOf(const Caller& caller);

  // The restriction lists apply for `reader`; unset when it reads
  // everything.
  static std::optional<storage::ReadableBy> ReadableByOf(const workflow::Reader& reader);

 private:
  AppContext& context_;
};

absl::Status NoSuchInstance(const std::string& id);

// Confidential fields out of what a redacted reader is shown.
void Redact(const v1::WorkflowDefinition& definition, v1::InstanceView& view);
void Redact(const v1::WorkflowDefinition& definition, v1::GetHistoryResponse& history);
// Returns the names of the fields cleared, sorted.
std::vector<std::string> Redact(const v1::WorkflowDefinition& definition, v1::Event& event);
// The `instance` of a command's reply (InstanceResponse,
// DecideTaskResponse), when it has one.
void RedactReply(const v1::WorkflowDefinition& definition, google::protobuf::Message& reply);

}  // namespace signoff::app
