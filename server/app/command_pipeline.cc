#include "server/app/command_pipeline.h"

#include <unistd.h>

#include "absl/random/random.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "server/app/ledger_balances.h"
#include "server/app/attachment_links.h"
#include "server/app/new_id.h"
#include "storage/digest.h"
#include "workflow/errors.h"
#include "workflow/limits.h"
#include "workflow/notifications.h"
#include "workflow/status_macros.h"

namespace signoff::app {

namespace {

using storage::DeterministicBytes;
using storage::Sha256Hex;

// Conflicting commits on one instance are retried this often before the
// caller sees ABORTED.
constexpr int kCommitAttempts = 4;

std::string Fingerprint(const std::string& method, const google::protobuf::Message& request) {
  return Sha256Hex(absl::StrCat(method, "\n", DeterministicBytes(request)));
}

// Time-ordered, so that listing by id newest first is listing by start.
std::string NewInstanceId(absl::Time now) { return NewTimeOrderedId("i", now); }

}  // namespace

std::string ContentDigest(const google::protobuf::Message& message) {
  return Sha256Hex(DeterministicBytes(message)).substr(0, 32);
}

absl::Status CheckRequestId(const Caller& caller, const std::string& request_id) {
  if (request_id.empty() || request_id.size() > workflow::kMaxIdBytes) {
    return workflow::InvalidArgumentWithViolations(
        "every change needs a request_id",
        {{"request_id", absl::StrCat("must be 1 to ", workflow::kMaxIdBytes,
                                     " bytes, unique per intended change")}});
  }
  if (!caller.system && absl::StartsWith(request_id, kServiceRequestPrefix)) {
    return workflow::InvalidArgumentWithViolations(
        "request_id uses a reserved prefix",
        {{"request_id", absl::StrCat("must not start with '", kServiceRequestPrefix,
                                     "', which signoffd keeps for its own changes")}});
  }
  return absl::OkStatus();
}

absl::Status CommandPipeline::Run(const Caller& caller, const InstanceCommand& command,
                                  google::protobuf::Message& reply) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  return Commit(
      caller, command.method, *command.request, command.request_id,
      [&](google::protobuf::Message& out) { return ApplyCommand(caller, command, out); },
      reply);
}

absl::Status CommandPipeline::Run(const Caller& caller, const PlainChange& change,
                                  google::protobuf::Message& reply) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  return Commit(caller, change.method, *change.request, change.request_id, change.build,
                reply);
}

namespace {

// The form a command brings, whose attachments the instance takes.
const google::protobuf::Struct* FormOf(const v1::Command& command) {
  if (command.has_start()) return &command.start().form();
  if (command.has_resubmit()) return &command.resubmit().form();
  return nullptr;
}

}  // namespace

absl::StatusOr<storage::Mutation> CommandPipeline::ApplyCommand(
    const Caller& caller, const InstanceCommand& command, google::protobuf::Message& reply) {
  EngineContext engine = context_.ContextFor(caller);
  v1::InstanceState state;
  std::shared_ptr<const v1::PublishedDefinition> definition;
  v1::Command to_apply = command.command;
  workflow::Readership readership = workflow::Readership::kFull;
  if (command.command.has_start()) {
    SIGNOFF_ASSIGN_OR_RETURN(definition,
                             context_.Definition(command.command.start().definition_key(),
                                                 command.command.start().definition_version()));
    to_apply.mutable_start()->set_definition_version(definition->version());
    engine.context.new_instance_id = NewInstanceId(engine.context.now);
  } else {
    absl::StatusOr<v1::InstanceState> loaded = access_.LoadInstance(command.instance_id);
    if (absl::IsNotFound(loaded.status()) && !command.task_id.empty()) {
      return absl::NotFoundError(
          absl::StrCat("no task ", workflow::ShortForMessage(command.task_id)));
    }
    SIGNOFF_ASSIGN_OR_RETURN(state, std::move(loaded));
    SIGNOFF_ASSIGN_OR_RETURN(definition, context_.Definition(state.definition_key(),
                                                             state.definition_version()));
    absl::StatusOr<workflow::Readership> seen =
        access_.CommandReadership(caller, command.command, state, definition->definition());
    if (absl::IsNotFound(seen.status()) && !command.task_id.empty()) {
      return absl::NotFoundError(
          absl::StrCat("no task ", workflow::ShortForMessage(command.task_id)));
    }
    SIGNOFF_ASSIGN_OR_RETURN(readership, std::move(seen));
  }
  std::vector<const google::protobuf::Struct*> forms = {&state.form()};
  if (to_apply.has_start()) forms.push_back(&to_apply.start().form());
  if (to_apply.has_resubmit()) forms.push_back(&to_apply.resubmit().form());
  SIGNOFF_ASSIGN_OR_RETURN(
      workflow::LedgerBalances balances,
      LoadLedgerBalances(context_.store(), definition->definition(), forms, engine.context.now,
                         engine.calendars.get()));
  engine.context.ledgers = &balances;
  SIGNOFF_ASSIGN_OR_RETURN(
      workflow::Transition transition,
      workflow::Apply(definition->definition(), state, to_apply, engine.context));
  storage::Mutation mutation;
  mutation.expected_version = state.version();
  transition.state.set_version(state.version() + 1);
  mutation.open_subject_key = std::move(transition.subject_key);
  mutation.tasks = std::move(transition.tasks_touched);
  mutation.timers_set = std::move(transition.timers_set);
  mutation.timers_removed = std::move(transition.timers_removed);
  mutation.events = std::move(transition.events);
  mutation.notifications =
      workflow::NotificationsOf(mutation.events, transition.state, *engine.directory);
  mutation.job_lease = command.job_lease;
  mutation.ledgers.changes =
      LedgerChangesOf(definition->definition(), transition.ledger_moves, mutation.events);
  if (command.schedule_start) {
    mutation.ledgers.schedule_start = *command.schedule_start;
    mutation.ledgers.schedule_start->instance_id = transition.state.id();
  }
  if (const google::protobuf::Struct* form = FormOf(to_apply)) {
    SIGNOFF_ASSIGN_OR_RETURN(
        mutation.attachments.links,
        NewAttachmentLinks(context_.store(), caller, definition->definition(), *form,
                           transition.state.id(), engine.context.now));
    RecordAttachments(mutation.attachments.links, mutation.events);
  }
  command.reply(transition.state, definition->definition(), reply);
  if (readership == workflow::Readership::kRedacted) RedactReply(definition->definition(), reply);
  mutation.instance = std::move(transition.state);
  return mutation;
}

absl::Status CommandPipeline::Commit(const Caller& caller, const std::string& method,
                                     const google::protobuf::Message& request,
                                     const std::string& request_id, const Attempt& attempt,
                                     google::protobuf::Message& reply) {
  SIGNOFF_RETURN_IF_ERROR(CheckRequestId(caller, request_id));
  const std::string fingerprint = Fingerprint(method, request);
  const std::string scope = caller.IdempotencyScope();
  auto replay = [&](const storage::IdempotencyRecord& record) -> absl::Status {
    if (record.fingerprint != fingerprint) {
      return workflow::InvalidArgumentWithViolations(
          "request_id was already used for a different request",
          {{"request_id", absl::StrCat("already used by a different ", record.method,
                                       " request")}});
    }
    if (!reply.ParseFromString(record.reply)) {
      return absl::InternalError("stored reply is unreadable");
    }
    ++counters_.replays;
    return absl::OkStatus();
  };
  // The request_id is looked up only when the command fails: a repeat of
  // a command that was carried out usually no longer applies, and one that
  // still does meets its record in the commit, which then changes nothing
  // and returns the first reply. Most commands are first sent, and skip
  // the read.
  auto replay_or = [&](const absl::Status& failure) -> absl::Status {
    absl::StatusOr<std::optional<storage::IdempotencyRecord>> existing =
        context_.store().FindIdempotency(scope, request_id);
    if (existing.ok() && existing->has_value()) return replay(**existing);
    return failure;
  };
  absl::Status last = absl::AbortedError("no attempt made");
  for (int i = 0; i < kCommitAttempts; ++i) {
    reply.Clear();
    absl::StatusOr<storage::Mutation> attempted = attempt(reply);
    if (!attempted.ok()) return replay_or(attempted.status());
    storage::Mutation mutation = std::move(*attempted);
    mutation.idempotency =
        storage::IdempotencyRecord{scope, request_id, method, fingerprint,
                                   reply.SerializeAsString()};
    absl::StatusOr<storage::CommitResult> result =
        context_.store().Commit(std::move(mutation));
    if (result.ok()) {
      if (result->duplicate_request) return replay(result->existing);
      for (const auto& hook : hooks_) hook(Committed{caller, method, result->events});
      return absl::OkStatus();
    }
    last = result.status();
    if (!absl::IsAborted(last)) return last;
    if (i + 1 < kCommitAttempts) ++counters_.conflict_retries;
  }
  return last;
}

}  // namespace signoff::app
