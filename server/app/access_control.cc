#include "server/app/access_control.h"

#include <algorithm>
#include <set>

#include "absl/strings/str_cat.h"
#include "signoff/v1/jobs.pb.h"
#include "workflow/errors.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"

namespace signoff::app {
namespace {

bool Holds(const workflow::Reader& reader, const std::string& principal) {
  return std::find(reader.principals.begin(), reader.principals.end(), principal) !=
         reader.principals.end();
}

// The common case settled without a read: the applicant, or someone the
// instance's tasks name.
bool NamedInState(const std::string& user, const v1::InstanceState& state) {
  if (state.applicant() == user) return true;
  for (const auto& task : state.tasks()) {
    if (task.assignee() == user || task.delegated_from() == user) return true;
  }
  return false;
}

bool PartyInState(const workflow::Reader& reader, const v1::InstanceState& state) {
  if (reader.user.empty()) return false;
  if (NamedInState(reader.user, state)) return true;
  for (const auto& task : state.tasks()) {
    if (!task.candidate_group().role().empty() &&
        Holds(reader, workflow::GroupPrincipal(task.candidate_group()))) {
      return true;
    }
  }
  return false;
}

void RedactChanges(const std::set<std::string>& confidential,
                   google::protobuf::RepeatedPtrField<v1::FormChange>& changes,
                   std::set<std::string>& redacted) {
  for (auto& change : changes) {
    if (confidential.count(change.field()) == 0) continue;
    change.clear_before();
    change.clear_after();
    redacted.insert(change.field());
  }
}

void RedactForm(const v1::WorkflowDefinition& definition, google::protobuf::Struct& form,
                std::set<std::string>& redacted) {
  for (auto& name : workflow::RedactConfidential(definition, form)) redacted.insert(name);
}

// Service accounts act on instances they do not read: they signal them and
// complete their SYSTEM steps, as the definition or their grants allow.
bool ServiceActsOn(const workflow::Directory& directory, const std::string& user,
                   const v1::WorkflowDefinition& definition) {
  const v1::User* found = directory.FindUser(user);
  if (found == nullptr || !found->service()) return false;
  const auto& listed = definition.service_accounts();
  return std::find(listed.begin(), listed.end(), user) != listed.end() ||
         directory.HoldsRoleFor(user, workflow::kSignalPermission, definition.key()) ||
         directory.HoldsRoleFor(user, workflow::kCompleteSystemStepsPermission, definition.key());
}

bool IsServiceCommand(const v1::Command& command) {
  return command.has_signal() || command.has_decide() || command.has_claim() ||
         command.has_pause_clock() || command.has_resume_clock() ||
         command.has_extend_deadline() || command.has_complete_job() ||
         command.has_fail_job() || command.has_throw_job_error();
}

}  // namespace

absl::Status NoSuchInstance(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("instance ", workflow::ShortForMessage(id), " not found"));
}

absl::StatusOr<workflow::Readership> AccessControl::ReadershipOf(
    const workflow::Reader& reader, const v1::InstanceState& state) {
  if (reader.principals.empty()) return workflow::Readership::kNone;
  if (reader.reads_every_definition || reader.definitions.count(state.definition_key()) > 0 ||
      PartyInState(reader, state)) {
    return workflow::Readership::kFull;
  }
  SIGNOFF_ASSIGN_OR_RETURN(auto grants, context_.store().GetAccessGrants(state.id()));
  return workflow::ReadershipOf(reader, state.definition_key(), grants);
}

absl::StatusOr<workflow::Readership> AccessControl::RequireReadable(
    const workflow::Reader& reader, const v1::InstanceState& state) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Readership readership, ReadershipOf(reader, state));
  if (readership == workflow::Readership::kNone) return NoSuchInstance(state.id());
  return readership;
}

absl::StatusOr<v1::InstanceState> AccessControl::LoadInstance(const std::string& id) {
  absl::StatusOr<v1::InstanceState> loaded = context_.store().GetInstance(id);
  if (absl::IsNotFound(loaded.status())) return NoSuchInstance(id);
  return loaded;
}

absl::StatusOr<workflow::Readership> AccessControl::CommandReadership(
    const Caller& caller, const v1::Command& command, const v1::InstanceState& state,
    const v1::WorkflowDefinition& definition) {
  if (caller.system || NamedInState(caller.user, state)) return workflow::Readership::kFull;
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Readership readership, ReadershipOf(reader, state));
  if (readership != workflow::Readership::kNone) return readership;
  if (IsServiceCommand(command) && ServiceActsOn(*context_.directory(), caller.user, definition)) {
    return workflow::Readership::kRedacted;
  }
  return NoSuchInstance(state.id());
}

absl::StatusOr<WatchScope> AccessControl::WatchScopeOf(const Caller& caller) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  WatchScope scope;
  if (caller.system) {
    scope.reads_every_definition = true;
    return scope;
  }
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  scope.reads_every_definition = reader.reads_every_definition;
  scope.full_readership = reader.administered;
  const auto directory = context_.directory();
  if (directory->HoldsRole(caller.user, workflow::kAuditorRole)) return scope;
  const v1::User* user = directory->FindUser(caller.user);
  const workflow::Directory::RoleScope watch =
      directory->ScopeOf(caller.user, workflow::kWatchEventsPermission);
  if (user == nullptr || !user->service() || watch.empty()) {
    return absl::PermissionDeniedError(absl::StrCat(
        "the event feed is for auditors and for service accounts with the ",
        workflow::kWatchEventsPermission, " permission"));
  }
  if (!watch.all) scope.definitions = watch.definitions;
  return scope;
}

std::optional<storage::ReadableBy> AccessControl::ReadableByOf(const workflow::Reader& reader) {
  if (reader.reads_every_definition) return std::nullopt;
  storage::ReadableBy readable;
  readable.principals = reader.principals;
  readable.definition_keys.assign(reader.definitions.begin(), reader.definitions.end());
  return readable;
}

void Redact(const v1::WorkflowDefinition& definition, v1::InstanceView& view) {
  std::set<std::string> redacted;
  RedactForm(definition, *view.mutable_form(), redacted);
  view.clear_redacted_fields();
  for (const auto& name : redacted) view.add_redacted_fields(name);
}

namespace {

std::set<std::string> ConfidentialFields(const v1::WorkflowDefinition& definition) {
  std::set<std::string> confidential;
  for (const auto& field : definition.form().fields()) {
    if (field.confidential()) confidential.insert(field.name());
  }
  return confidential;
}

void RedactEvent(const v1::WorkflowDefinition& definition,
                 const std::set<std::string>& confidential, v1::Event& event,
                 std::set<std::string>& redacted) {
  if (event.has_instance_started()) {
    RedactForm(definition, *event.mutable_instance_started()->mutable_form(), redacted);
  }
  if (event.has_instance_resubmitted()) {
    auto* resubmitted = event.mutable_instance_resubmitted();
    RedactForm(definition, *resubmitted->mutable_form(), redacted);
    RedactChanges(confidential, *resubmitted->mutable_changes(), redacted);
  }
}

}  // namespace

void Redact(const v1::WorkflowDefinition& definition, v1::GetHistoryResponse& history) {
  const std::set<std::string> confidential = ConfidentialFields(definition);
  if (confidential.empty()) return;
  std::set<std::string> redacted;
  for (auto& event : *history.mutable_events()) {
    RedactEvent(definition, confidential, event, redacted);
  }
  for (const auto& name : redacted) history.add_redacted_fields(name);
}

std::vector<std::string> Redact(const v1::WorkflowDefinition& definition, v1::Event& event) {
  const std::set<std::string> confidential = ConfidentialFields(definition);
  std::set<std::string> redacted;
  if (!confidential.empty()) RedactEvent(definition, confidential, event, redacted);
  return {redacted.begin(), redacted.end()};
}

void RedactReply(const v1::WorkflowDefinition& definition, google::protobuf::Message& reply) {
  if (auto* response = dynamic_cast<v1::InstanceResponse*>(&reply)) {
    Redact(definition, *response->mutable_instance());
  } else if (auto* decided = dynamic_cast<v1::DecideTaskResponse*>(&reply)) {
    if (decided->has_instance()) Redact(definition, *decided->mutable_instance());
  } else if (auto* job = dynamic_cast<v1::JobResponse*>(&reply)) {
    if (job->has_instance()) Redact(definition, *job->mutable_instance());
  }
}

}  // namespace signoff::app
