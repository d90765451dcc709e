#include "server/core.h"

#include <openssl/sha.h>

#include <unistd.h>

#include <algorithm>
#include <optional>
#include <set>

#include "absl/random/random.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/match.h"
#include "absl/strings/str_format.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"

namespace signoff::server {

namespace {

// Conflicting commits on one instance are retried this often before the
// caller sees ABORTED.
constexpr int kCommitAttempts = 4;

std::string Fingerprint(const std::string& method, const google::protobuf::Message& request) {
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream stream(&bytes);
    google::protobuf::io::CodedOutputStream coded(&stream);
    coded.SetSerializationDeterministic(true);
    request.SerializeToCodedStream(&coded);
  }
  const std::string input = absl::StrCat(method, "\n", bytes);
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

// Time-ordered, so that listing by id newest first is listing by start.
std::string NewInstanceId(absl::Time now) {
  static thread_local absl::BitGen random;
  return absl::StrFormat("i%013x%06x", absl::ToUnixMicros(now),
                         absl::Uniform<uint32_t>(random, 0, 1u << 24));
}

bool IsOpen(v1::InstanceStatus status) {
  return status == v1::RUNNING || status == v1::RETURNED;
}

std::string SubjectKey(const v1::WorkflowDefinition& definition,
                       const v1::InstanceState& state) {
  if (!definition.subject().unique_open() || state.subject().empty() ||
      !IsOpen(state.status())) {
    return "";
  }
  return absl::StrCat(state.definition_key(), "\x1f", state.subject());
}

// The timers a transition leaves set, and those it removed.
void ChangedTimers(const std::vector<v1::Event>& events, storage::Mutation& mutation) {
  std::map<std::string, std::optional<v1::Timer>> latest;
  for (const auto& event : events) {
    if (event.has_timer_set()) latest[event.timer_set().timer().id()] = event.timer_set().timer();
    if (event.has_timer_cancelled()) latest[event.timer_cancelled().timer_id()] = std::nullopt;
    if (event.has_timer_fired()) latest[event.timer_fired().timer_id()] = std::nullopt;
  }
  for (auto& [id, timer] : latest) {
    if (timer) {
      mutation.timers_set.push_back(std::move(*timer));
    } else {
      mutation.timers_removed.push_back(id);
    }
  }
}

// The tasks a transition touched, as the new state holds them: the inbox
// index keeps a copy of each.
std::vector<v1::Task> ChangedTasks(const std::vector<v1::Event>& events,
                                   const v1::InstanceState& state) {
  std::set<std::string> touched;
  for (const auto& event : events) {
    if (event.has_task_created() || event.has_task_updated() || event.has_task_completed() ||
        event.has_task_cancelled() || event.has_task_reminded()) {
      touched.insert(event.task_id());
    }
  }
  std::map<std::string, v1::Task> latest;
  for (const auto& task : state.tasks()) {
    if (touched.count(task.id())) latest[task.id()] = task;
  }
  std::vector<v1::Task> tasks;
  for (auto& [id, task] : latest) tasks.push_back(std::move(task));
  return tasks;
}

absl::Status RequireRequestId(const Caller& caller, const std::string& request_id) {
  if (request_id.empty() || request_id.size() > 128) {
    return workflow::InvalidArgumentWithViolations(
        "every change needs a request_id",
        {{"request_id", "must be 1 to 128 characters, unique per intended change"}});
  }
  if (!caller.system && absl::StartsWith(request_id, kServiceRequestPrefix)) {
    return workflow::InvalidArgumentWithViolations(
        "request_id uses a reserved prefix",
        {{"request_id", absl::StrCat("must not start with '", kServiceRequestPrefix,
                                     "', which signoffd keeps for its own changes")}});
  }
  return absl::OkStatus();
}

google::protobuf::Timestamp Now(const Clock& clock) {
  google::protobuf::Timestamp stamp;
  const int64_t nanos = absl::ToUnixNanos(clock());
  stamp.set_seconds(nanos / 1000000000);
  stamp.set_nanos(static_cast<int32_t>(nanos % 1000000000));
  return stamp;
}

}  // namespace

void MarkOverdue(v1::Task& task, absl::Time now) {
  const bool overdue =
      task.status() == v1::PENDING && task.has_due_at() &&
      absl::FromUnixSeconds(task.due_at().seconds()) + absl::Nanoseconds(task.due_at().nanos()) <
          now;
  task.set_overdue(overdue);
}

v1::InstanceView ViewOf(const v1::InstanceState& state, absl::Time now) {
  v1::InstanceView view;
  view.set_id(state.id());
  view.set_definition_key(state.definition_key());
  view.set_definition_version(state.definition_version());
  view.set_status(state.status());
  view.set_applicant(state.applicant());
  view.set_subject(state.subject());
  *view.mutable_form() = state.form();
  view.set_form_revision(state.form_revision());
  for (const auto& step : state.active_steps()) view.add_active_steps(step.step_id());
  for (const auto& task : state.tasks()) {
    if (task.status() == v1::PENDING || task.status() == v1::WAITING) {
      v1::Task* shown = view.add_pending_tasks();
      *shown = task;
      MarkOverdue(*shown, now);
    }
  }
  *view.mutable_created_at() = state.created_at();
  *view.mutable_updated_at() = state.updated_at();
  if (state.has_finished_at()) *view.mutable_finished_at() = state.finished_at();
  view.set_version(state.version());
  view.set_outcome_reason(state.outcome_reason());
  view.set_sla_breached(state.sla_breached());
  *view.mutable_clocks() = state.clocks();
  if (state.has_appeal_until()) *view.mutable_appeal_until() = state.appeal_until();
  return view;
}

Core::Core(std::shared_ptr<storage::Store> store, Clock clock)
    : store_(std::move(store)), clock_(std::move(clock)) {
  static thread_local absl::BitGen random;
  timer_owner_ = absl::StrFormat("signoffd-%d-%08x", static_cast<int>(getpid()),
                                 absl::Uniform<uint32_t>(random));
}

absl::StatusOr<std::unique_ptr<Core>> Core::Create(std::shared_ptr<storage::Store> store,
                                                   Clock clock) {
  std::unique_ptr<Core> core(new Core(std::move(store), std::move(clock)));
  RETURN_IF_ERROR(core->ReloadDirectory());
  RETURN_IF_ERROR(core->ReloadCalendars());
  return core;
}

std::shared_ptr<const workflow::Directory> Core::directory() const {
  std::lock_guard<std::mutex> lock(mutex_);
  return directory_;
}

absl::Status Core::ReloadDirectory() {
  ASSIGN_OR_RETURN(v1::Organisation organisation, store_->LoadDirectory());
  auto loaded = std::make_shared<const workflow::Directory>(std::move(organisation));
  std::lock_guard<std::mutex> lock(mutex_);
  directory_ = std::move(loaded);
  return absl::OkStatus();
}

absl::Status Core::Authenticate(const Caller& caller) const {
  if (caller.system) return absl::OkStatus();
  if (caller.user.empty()) return absl::UnauthenticatedError("no caller identity");
  const v1::User* user = directory()->FindUser(caller.user);
  if (user == nullptr || user->disabled()) {
    return absl::UnauthenticatedError(
        absl::StrCat("'", caller.user, "' is not an enabled directory user"));
  }
  return absl::OkStatus();
}

absl::Status Core::RequireAdmin(const Caller& caller) const {
  if (caller.system) return absl::OkStatus();
  auto current = directory();
  // An empty directory has no administrators yet; the first import sets
  // them up.
  if (current->organisation().users_size() == 0) return absl::OkStatus();
  if (current->HoldsRole(caller.user, workflow::kDefaultAdminRole)) return absl::OkStatus();
  return absl::PermissionDeniedError(
      absl::StrCat("this needs the ", workflow::kDefaultAdminRole, " role"));
}

absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> Core::Definition(
    const std::string& key, int32_t version) {
  if (version > 0) {
    std::lock_guard<std::mutex> lock(mutex_);
    auto it = definitions_.find({key, version});
    if (it != definitions_.end()) return it->second;
  }
  ASSIGN_OR_RETURN(v1::PublishedDefinition loaded, store_->GetDefinition(key, version));
  auto shared = std::make_shared<const v1::PublishedDefinition>(std::move(loaded));
  std::lock_guard<std::mutex> lock(mutex_);
  definitions_[{key, shared->version()}] = shared;
  return shared;
}

template <typename Reply>
absl::StatusOr<Reply> Core::Idempotent(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id,
    const std::function<absl::StatusOr<std::pair<storage::Mutation, Reply>>()>& attempt) {
  RETURN_IF_ERROR(RequireRequestId(caller, request_id));
  const std::string fingerprint = Fingerprint(method, request);
  auto replay = [&](const storage::IdempotencyRecord& record) -> absl::StatusOr<Reply> {
    if (record.fingerprint != fingerprint) {
      return workflow::InvalidArgumentWithViolations(
          "request_id was already used for a different request",
          {{"request_id", absl::StrCat("already used by a different ", record.method,
                                       " request")}});
    }
    Reply reply;
    if (!reply.ParseFromString(record.reply)) {
      return absl::InternalError("stored reply is unreadable");
    }
    return reply;
  };
  ASSIGN_OR_RETURN(auto existing, store_->FindIdempotency(request_id));
  if (existing) return replay(*existing);
  absl::Status last = absl::AbortedError("no attempt made");
  for (int i = 0; i < kCommitAttempts; ++i) {
    ASSIGN_OR_RETURN(auto built, attempt());
    auto& [mutation, reply] = built;
    mutation.idempotency = storage::IdempotencyRecord{request_id, method, fingerprint,
                                                      reply.SerializeAsString()};
    absl::StatusOr<storage::CommitResult> result = store_->Commit(std::move(mutation));
    if (result.ok()) {
      if (result->duplicate_request) return replay(result->existing);
      return reply;
    }
    last = result.status();
    if (!absl::IsAborted(last)) return last;
  }
  return last;
}

template <typename Reply>
absl::StatusOr<Reply> Core::RunCommand(
    const Caller& caller, const std::string& method, const google::protobuf::Message& request,
    const std::string& request_id, const std::string& instance_id, const v1::Command& command,
    const std::function<Reply(const v1::InstanceState&)>& reply) {
  RETURN_IF_ERROR(Authenticate(caller));
  auto attempt = [&]() -> absl::StatusOr<std::pair<storage::Mutation, Reply>> {
    v1::InstanceState state;
    std::shared_ptr<const v1::PublishedDefinition> definition;
    workflow::Context context;
    context.now = clock_();
    context.actor = caller.user;
    auto current_directory = directory();
    context.directory = current_directory.get();
    auto current_calendars = calendars();
    context.calendars = current_calendars.get();
    v1::Command to_apply = command;
    if (command.has_start()) {
      ASSIGN_OR_RETURN(definition, Definition(command.start().definition_key(),
                                              command.start().definition_version()));
      to_apply.mutable_start()->set_definition_version(definition->version());
      context.new_instance_id = NewInstanceId(context.now);
    } else {
      ASSIGN_OR_RETURN(state, store_->GetInstance(instance_id));
      ASSIGN_OR_RETURN(definition,
                       Definition(state.definition_key(), state.definition_version()));
    }
    ASSIGN_OR_RETURN(workflow::Transition transition,
                     workflow::Apply(definition->definition(), state, to_apply, context));
    storage::Mutation mutation;
    mutation.expected_version = state.version();
    transition.state.set_version(state.version() + 1);
    mutation.open_subject_key = SubjectKey(definition->definition(), transition.state);
    mutation.tasks = ChangedTasks(transition.events, transition.state);
    ChangedTimers(transition.events, mutation);
    mutation.events = std::move(transition.events);
    Reply built = reply(transition.state);
    mutation.instance = std::move(transition.state);
    return std::make_pair(std::move(mutation), std::move(built));
  };
  return Idempotent<Reply>(caller, method, request, request_id, attempt);
}

// ------------------------------------------------------------ instances

namespace {

v1::InstanceResponse InstanceReply(const v1::InstanceState& state) {
  v1::InstanceResponse response;
  // A reply shows the instance as committed; what is overdue is a read's
  // question.
  *response.mutable_instance() = ViewOf(state, absl::InfinitePast());
  return response;
}

const v1::Task* TaskIn(const v1::InstanceState& state, const std::string& id) {
  for (const auto& task : state.tasks()) {
    if (task.id() == id) return &task;
  }
  return nullptr;
}

}  // namespace

absl::StatusOr<v1::InstanceResponse> Core::StartInstance(
    const Caller& caller, const v1::StartInstanceRequest& request) {
  v1::Command command;
  *command.mutable_start() = request;
  return RunCommand<v1::InstanceResponse>(caller, "StartInstance", request,
                                          request.request_id(), "", command, InstanceReply);
}

absl::StatusOr<v1::InstanceResponse> Core::WithdrawInstance(
    const Caller& caller, const v1::WithdrawInstanceRequest& request) {
  v1::Command command;
  *command.mutable_withdraw() = request;
  return RunCommand<v1::InstanceResponse>(caller, "WithdrawInstance", request,
                                          request.request_id(), request.id(), command,
                                          InstanceReply);
}

absl::StatusOr<v1::InstanceResponse> Core::ResubmitInstance(
    const Caller& caller, const v1::ResubmitInstanceRequest& request) {
  v1::Command command;
  *command.mutable_resubmit() = request;
  return RunCommand<v1::InstanceResponse>(caller, "ResubmitInstance", request,
                                          request.request_id(), request.id(), command,
                                          InstanceReply);
}

absl::StatusOr<v1::InstanceResponse> Core::AppealInstance(
    const Caller& caller, const v1::AppealInstanceRequest& request) {
  v1::Command command;
  *command.mutable_appeal() = request;
  return RunCommand<v1::InstanceResponse>(caller, "AppealInstance", request,
                                          request.request_id(), request.id(), command,
                                          InstanceReply);
}

absl::StatusOr<v1::InstanceResponse> Core::CancelInstance(
    const Caller& caller, const v1::CancelInstanceRequest& request) {
  v1::Command command;
  *command.mutable_cancel() = request;
  return RunCommand<v1::InstanceResponse>(caller, "CancelInstance", request,
                                          request.request_id(), request.id(), command,
                                          InstanceReply);
}

absl::StatusOr<v1::PreviewRouteResponse> Core::PreviewRoute(
    const Caller& caller, const v1::PreviewRouteRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(auto definition,
                   Definition(request.definition_key(), request.definition_version()));
  auto current_directory = directory();
  const std::string applicant = request.applicant().empty() ? caller.user : request.applicant();
  if (current_directory->FindUser(applicant) == nullptr) {
    return workflow::InvalidArgumentWithViolations(
        "unknown applicant", {{"applicant", absl::StrCat("unknown user '", applicant, "'")}});
  }
  workflow::Context context;
  context.now = clock_();
  context.directory = current_directory.get();
  auto current_calendars = calendars();
  context.calendars = current_calendars.get();
  return workflow::PreviewRoute(definition->definition(), request.form(), applicant, context);
}

absl::StatusOr<v1::InstanceResponse> Core::GetInstance(const Caller& caller,
                                                       const v1::GetInstanceRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(v1::InstanceState state, store_->GetInstance(request.id()));
  v1::InstanceResponse response;
  *response.mutable_instance() = ViewOf(state, clock_());
  return response;
}

absl::StatusOr<v1::ListInstancesResponse> Core::ListInstances(
    const Caller& caller, const v1::ListInstancesRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  storage::InstanceFilter filter;
  filter.definition_key = request.definition_key();
  filter.status = request.status();
  filter.applicant = request.applicant();
  filter.subject = request.subject();
  filter.sla_breached = request.sla_breached();
  filter.page_size = request.page_size() > 0 ? request.page_size() : 50;
  filter.page_token = request.page_token();
  ASSIGN_OR_RETURN(auto page, store_->ListInstances(filter));
  v1::ListInstancesResponse response;
  const absl::Time now = clock_();
  for (const auto& state : page.items) *response.add_instances() = ViewOf(state, now);
  response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::GetHistoryResponse> Core::GetHistory(const Caller& caller,
                                                        const v1::GetHistoryRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  RETURN_IF_ERROR(store_->GetInstance(request.instance_id()).status());
  ASSIGN_OR_RETURN(auto events, store_->ListEvents(request.instance_id()));
  v1::GetHistoryResponse response;
  response.set_chain_verified(storage::VerifyEventChain(events));
  for (auto& event : events) *response.add_events() = std::move(event);
  return response;
}

// ------------------------------------------------------------ tasks

absl::StatusOr<v1::ListTasksResponse> Core::ListTasks(const Caller& caller,
                                                      const v1::ListTasksRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  storage::TaskFilter filter;
  filter.assignee = request.assignee();
  filter.role = request.role();
  filter.department = request.department();
  filter.status = request.status();
  filter.instance_id = request.instance_id();
  filter.page_size = request.page_size() > 0 ? request.page_size() : 50;
  filter.page_token = request.page_token();
  const absl::Time now = clock_();
  if (request.overdue()) filter.due_before = now;
  if (request.has_due_before()) {
    const absl::Time due_before = absl::FromUnixSeconds(request.due_before().seconds());
    filter.due_before = filter.due_before ? std::min(*filter.due_before, due_before) : due_before;
  }
  const bool no_filter = filter.assignee.empty() && filter.role.empty() &&
                         filter.department.empty() && filter.instance_id.empty() &&
                         filter.status == v1::TASK_STATUS_UNSPECIFIED && !filter.due_before;
  if (no_filter) {
    filter.inbox_user = caller.user;
    filter.inbox_groups = directory()->GroupsOf(caller.user);
  }
  ASSIGN_OR_RETURN(auto page, store_->ListTasks(filter));
  v1::ListTasksResponse response;
  for (auto& task : page.items) {
    MarkOverdue(task, now);
    *response.add_tasks() = std::move(task);
  }
  response.set_next_page_token(page.next_page_token);
  return response;
}

absl::StatusOr<v1::TaskResponse> Core::GetTask(const Caller& caller,
                                               const v1::GetTaskRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  v1::TaskResponse response;
  ASSIGN_OR_RETURN(*response.mutable_task(), store_->GetTask(request.id()));
  MarkOverdue(*response.mutable_task(), clock_());
  return response;
}

absl::StatusOr<v1::TaskResponse> Core::ClaimTask(const Caller& caller,
                                                 const v1::ClaimTaskRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(v1::Task task, store_->GetTask(request.id()));
  v1::Command command;
  *command.mutable_claim() = request;
  const std::string id = request.id();
  return RunCommand<v1::TaskResponse>(
      caller, "ClaimTask", request, request.request_id(), task.instance_id(), command,
      [id](const v1::InstanceState& state) {
        v1::TaskResponse response;
        if (const v1::Task* found = TaskIn(state, id)) *response.mutable_task() = *found;
        return response;
      });
}

absl::StatusOr<v1::DecideTaskResponse> Core::DecideTask(const Caller& caller,
                                                        const v1::DecideTaskRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(v1::Task task, store_->GetTask(request.task_id()));
  v1::Command command;
  *command.mutable_decide() = request;
  const std::string id = request.task_id();
  return RunCommand<v1::DecideTaskResponse>(
      caller, "DecideTask", request, request.request_id(), task.instance_id(), command,
      [id](const v1::InstanceState& state) {
        v1::DecideTaskResponse response;
        if (const v1::Task* found = TaskIn(state, id)) *response.mutable_task() = *found;
        *response.mutable_instance() = ViewOf(state, absl::InfinitePast());
        return response;
      });
}

absl::StatusOr<v1::TaskResponse> Core::RemindTask(const Caller& caller,
                                                  const v1::RemindTaskRequest& request) {
  RETURN_IF_ERROR(Authenticate(caller));
  ASSIGN_OR_RETURN(v1::Task task, store_->GetTask(request.id()));
  v1::Command command;
  *command.mutable_remind() = request;
  const std::string id = request.id();
  return RunCommand<v1::TaskResponse>(
      caller, "RemindTask", request, request.request_id(), task.instance_id(), command,
      [id](const v1::InstanceState& state) {
        v1::TaskResponse response;
        if (const v1::Task* found = TaskIn(state, id)) *response.mutable_task() = *found;
        return response;
      });
}

// The administrative calls in core_admin.cc share the idempotency path.
template absl::StatusOr<v1::PublishDefinitionResponse> Core::Idempotent(
    const Caller&, const std::string&, const google::protobuf::Message&, const std::string&,
    const std::function<
        absl::StatusOr<std::pair<storage::Mutation, v1::PublishDefinitionResponse>>()>&);
template absl::StatusOr<v1::UpsertUsersResponse> Core::Idempotent(
    const Caller&, const std::string&, const google::protobuf::Message&, const std::string&,
    const std::function<absl::StatusOr<std::pair<storage::Mutation, v1::UpsertUsersResponse>>()>&);
template absl::StatusOr<v1::UpsertDepartmentsResponse> Core::Idempotent(
    const Caller&, const std::string&, const google::protobuf::Message&, const std::string&,
    const std::function<
        absl::StatusOr<std::pair<storage::Mutation, v1::UpsertDepartmentsResponse>>()>&);

template absl::StatusOr<v1::PublishCalendarResponse> Core::Idempotent(
    const Caller&, const std::string&, const google::protobuf::Message&, const std::string&,
    const std::function<
        absl::StatusOr<std::pair<storage::Mutation, v1::PublishCalendarResponse>>()>&);

// The time calls in core_time.cc run instance commands too.
template absl::StatusOr<v1::InstanceResponse> Core::RunCommand(
    const Caller&, const std::string&, const google::protobuf::Message&, const std::string&,
    const std::string&, const v1::Command&,
    const std::function<v1::InstanceResponse(const v1::InstanceState&)>&);
template absl::StatusOr<v1::ClockResponse> Core::RunCommand(
    const Caller&, const std::string&, const google::protobuf::Message&, const std::string&,
    const std::string&, const v1::Command&,
    const std::function<v1::ClockResponse(const v1::InstanceState&)>&);

}  // namespace signoff::server
