#include "server/app/instance_service.h"

#include <map>

#include "absl/strings/str_cat.h"
#include "server/app/event_service.h"
#include "server/app/log_pages.h"
#include "server/app/views.h"
#include "storage/store.h"
#include "workflow/errors.h"
#include "workflow/roles.h"
#include "workflow/status_macros.h"

namespace signoff::app {

absl::StatusOr<v1::InstanceView> InstanceService::View(const v1::InstanceState& state,
                                                       workflow::Readership readership,
                                                       absl::Time now) {
  SIGNOFF_ASSIGN_OR_RETURN(auto definition,
                           context_.Definition(state.definition_key(), state.definition_version()));
  v1::InstanceView view = ViewOf(state, definition->definition(), now);
  if (readership != workflow::Readership::kFull) Redact(definition->definition(), view);
  return view;
}

absl::StatusOr<v1::InstanceResponse> InstanceService::RunOnInstance(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id, const std::string& instance_id, v1::Command command) {
  InstanceCommand run{method, &request, request_id, instance_id, "", std::move(command),
                      InstanceReply};
  v1::InstanceResponse reply;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, run, reply));
  return reply;
}

absl::StatusOr<v1::InstanceResponse> InstanceService::StartInstance(
    const Caller& caller, const v1::StartInstanceRequest& request) {
  v1::Command command;
  *command.mutable_start() = request;
  return RunOnInstance(caller, "StartInstance", request, request.request_id(), "",
                       std::move(command));
}

absl::StatusOr<v1::InstanceResponse> InstanceService::WithdrawInstance(
    const Caller& caller, const v1::WithdrawInstanceRequest& request) {
  v1::Command command;
  *command.mutable_withdraw() = request;
  return RunOnInstance(caller, "WithdrawInstance", request, request.request_id(), request.id(),
                       std::move(command));
}

absl::StatusOr<v1::InstanceResponse> InstanceService::ResubmitInstance(
    const Caller& caller, const v1::ResubmitInstanceRequest& request) {
  v1::Command command;
  *command.mutable_resubmit() = request;
  return RunOnInstance(caller, "ResubmitInstance", request, request.request_id(), request.id(),
                       std::move(command));
}

absl::StatusOr<v1::InstanceResponse> InstanceService::AppealInstance(
    const Caller& caller, const v1::AppealInstanceRequest& request) {
  v1::Command command;
  *command.mutable_appeal() = request;
  return RunOnInstance(caller, "AppealInstance", request, request.request_id(), request.id(),
                       std::move(command));
}

absl::StatusOr<v1::InstanceResponse> InstanceService::CancelInstance(
    const Caller& caller, const v1::CancelInstanceRequest& request) {
  v1::Command command;
  *command.mutable_cancel() = request;
  return RunOnInstance(caller, "CancelInstance", request, request.request_id(), request.id(),
                       std::move(command));
}

absl::StatusOr<v1::InstanceResponse> InstanceService::SignalInstance(
    const Caller& caller, const v1::SignalInstanceRequest& request) {
  v1::Command command;
  *command.mutable_signal() = request;
  return RunOnInstance(caller, "SignalInstance", request, request.request_id(), request.id(),
                       std::move(command));
}

absl::StatusOr<v1::PreviewRouteResponse> InstanceService::PreviewRoute(
    const Caller& caller, const v1::PreviewRouteRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  SIGNOFF_ASSIGN_OR_RETURN(auto definition, context_.Definition(request.definition_key(),
                                                                request.definition_version()));
  EngineContext engine = context_.ContextFor(caller);
  const std::string applicant = request.applicant().empty() ? caller.user : request.applicant();
  // A disabled user can start nothing, and their manager chain is not
  // shown to everyone: they preview as unknown.
  const v1::User* found = engine.directory->FindUser(applicant);
  if (found == nullptr || found->disabled()) {
    return workflow::InvalidArgumentWithViolations(
        "unknown applicant",
        {{"applicant",
          absl::StrCat("unknown user '", workflow::ShortForMessage(applicant), "'")}});
  }
  return workflow::PreviewRoute(definition->definition(), request.form(), applicant,
                                engine.context);
}

absl::StatusOr<v1::InstanceResponse> InstanceService::GetInstance(
    const Caller& caller, const v1::GetInstanceRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  SIGNOFF_ASSIGN_OR_RETURN(v1::InstanceState state, access_.LoadInstance(request.id()));
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Readership readership,
                           access_.RequireReadable(reader, state));
  v1::InstanceResponse response;
  SIGNOFF_ASSIGN_OR_RETURN(*response.mutable_instance(), View(state, readership, context_.Now()));
  return response;
}

absl::StatusOr<v1::ListInstancesResponse> InstanceService::ListInstances(
    const Caller& caller, const v1::ListInstancesRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  storage::InstanceFilter filter;
  filter.definition_key = request.definition_key();
  filter.status = request.status();
  filter.applicant = request.applicant();
  filter.subject = request.subject();
  filter.sla_breached = request.sla_breached();
  filter.outcome = request.outcome();
  if (request.cc_to_me()) filter.copied_to = caller.user;
  filter.readable_by = AccessControl::ReadableByOf(reader);
  filter.page_size = request.page_size() > 0 ? request.page_size() : 50;
  filter.page_token = request.page_token();
  SIGNOFF_ASSIGN_OR_RETURN(auto page, context_.store().ListInstances(filter));
  v1::ListInstancesResponse response;
  const absl::Time now = context_.Now();
  for (const auto& state : page.items) {
    SIGNOFF_ASSIGN_OR_RETURN(workflow::Readership readership,
                             access_.ReadershipOf(reader, state));
    SIGNOFF_ASSIGN_OR_RETURN(*response.add_instances(), View(state, readership, now));
  }
  response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::ListEventsResponse> InstanceService::ListEvents(
    const Caller& caller, const v1::ListEventsRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(const WatchScope scope, access_.WatchScopeOf(caller));
  SIGNOFF_ASSIGN_OR_RETURN(
      const int page_size,
      LogPageSize("after_global_seq", request.after_global_seq(), request.page_size()));
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::FeedRecord> records,
                           context_.store().ListFeedSince(request.after_global_seq(), page_size));
  v1::ListEventsResponse response;
  // Past every event read, kept or not, so that the next page goes on.
  response.set_next_after_global_seq(records.empty() ? request.after_global_seq()
                                                     : records.back().event.global_seq());
  for (auto& record : records) {
    if (!scope.Covers(record.definition_key)) continue;
    SIGNOFF_ASSIGN_OR_RETURN(v1::FeedEvent seen, FeedEventFor(context_, scope, record));
    *response.add_events() = std::move(*seen.mutable_event());
  }
  return response;
}

absl::StatusOr<v1::GetHistoryResponse> InstanceService::GetHistory(
    const Caller& caller, const v1::GetHistoryRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  SIGNOFF_ASSIGN_OR_RETURN(v1::InstanceState state, access_.LoadInstance(request.instance_id()));
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Readership readership,
                           access_.RequireReadable(reader, state));
  SIGNOFF_ASSIGN_OR_RETURN(storage::History history,
                           context_.store().GetHistory(request.instance_id()));
  v1::GetHistoryResponse response;
  response.set_chain_verified(storage::VerifyHistory(history));
  response.set_event_count(history.event_count);
  response.set_head_hash(history.head_hash);
  for (auto& event : history.events) *response.add_events() = std::move(event);
  if (readership != workflow::Readership::kFull) {
    SIGNOFF_ASSIGN_OR_RETURN(auto definition, context_.Definition(state.definition_key(),
                                                                  state.definition_version()));
    Redact(definition->definition(), response);
  }
  return response;
}

}  // namespace signoff::app
