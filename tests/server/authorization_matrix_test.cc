// Who may call what: every RPC, called by every kind of caller, on an
// instance running, returned to its applicant, and finished. Each cell is
// asserted with its code; lists also say whether the instance is in them.
// Mutating calls expected to succeed run on a fresh instance of their own,
// so that no cell sees another's change.

#include <gmock/gmock.h>
#include <gtest/gtest.h>

#include <functional>
#include <map>
#include <set>
#include <string>
#include <vector>

#include "absl/strings/str_cat.h"
#include "server_fixture.h"
#include "signoff/v1/attachments.grpc.pb.h"
#include "signoff/v1/reports.grpc.pb.h"
#include "signoff/v1/webhooks.grpc.pb.h"
#include "storage/digest.h"
#include "workflow/yaml_mapping.h"

namespace signoff::testing {
namespace {

using absl::StatusCode;

constexpr char kMatrixOrganisation[] = R"(
departments:
  - {id: root, name: Company, head: chief}
  - {id: ops, name: Operations, parent: root, head: boss}
  - {id: hr, name: HR, parent: root, head: hrhead}
users:
  - {id: chief, department: root}
  - {id: boss, department: ops, manager: chief}
  - {id: app, department: ops, manager: boss}
  - {id: subj, department: ops, manager: boss}
  - {id: past, department: ops, manager: boss}
  - {id: cur, department: ops, manager: boss}
  - {id: dfrom, department: ops, manager: boss}
  - {id: dlg, department: ops, manager: boss}
  - {id: cand, department: ops, manager: boss, roles: [{role: reviewer}]}
  - {id: cc, department: ops, manager: boss}
  - {id: outsider, department: ops, manager: boss}
  - {id: hrhead, department: hr, manager: chief}
  - {id: viewer, department: hr, manager: hrhead, roles: [{role: hr-viewer}]}
  - {id: padmin, department: root, manager: chief,
     roles: [{role: process-admin, definitions: [review]}]}
  - {id: wadmin, department: root, manager: chief, roles: [{role: workflow-admin}]}
  - {id: aud, department: root, manager: chief, roles: [{role: auditor}]}
  - {id: svc-yes, department: root, service: true,
     roles: [{role: signal, definitions: [review]},
             {role: complete-system-steps, definitions: [review]},
             {role: watch-events, definitions: [review]}]}
  - {id: svc-no, department: root, service: true}
  - {id: gone, department: ops, manager: boss, disabled: true}
)";

constexpr char kReviewDefinition[] = R"(
key: review
name: Matrix review
form:
  fields:
    - {name: employee, type: USER, required: true}
    - {name: notes, type: STRING, confidential: true}
    - {name: evidence, type: ATTACHMENT}
subject: {field: employee, type: employee}
visibility:
  managers_above: 1
  viewers: [{role: hr-viewer, department: hr}]
buffered_signals: [docs_ready]
ledgers: [{name: budget, limit: 100}]
# Anyone may start one, the first approver included.
policies: {allow_self_approval: true}
steps:
  - id: first
    approval: {approvers: [{user: past}]}
    next: [{to: second}]
  - id: second
    approval:
      approvers: [{user: cur}, {user: dfrom},
                  {role: {name: reviewer, department: ops, candidate_group: true}}]
      policy: ALL
    sla: {due: {days: 3}}
    actions: {allowed: [APPROVE, REJECT, RETURN, CC, DELEGATE, COMMENT, REMIND, PAUSE_CLOCK,
                        EXTEND_DEADLINE]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

enum class Row {
  kNone, kUnknown, kDisabled, kOrdinary, kApplicant, kSubject, kAssignee, kPastAssignee,
  kCandidate, kDelegate, kCc, kManagerAbove, kViewer, kProcessAdmin, kWorkflowAdmin, kAuditor,
  kServiceWith, kServiceWithout,
};

const std::vector<std::pair<Row, std::string>>& Rows() {
  static const auto* const kRows = new std::vector<std::pair<Row, std::string>>{
      {Row::kNone, ""},           {Row::kUnknown, "ghost"},        {Row::kDisabled, "gone"},
      {Row::kOrdinary, "outsider"}, {Row::kApplicant, "app"},      {Row::kSubject, "subj"},
      {Row::kAssignee, "cur"},    {Row::kPastAssignee, "past"},    {Row::kCandidate, "cand"},
      {Row::kDelegate, "dlg"},    {Row::kCc, "cc"},                {Row::kManagerAbove, "boss"},
      {Row::kViewer, "viewer"},   {Row::kProcessAdmin, "padmin"},  {Row::kWorkflowAdmin, "wadmin"},
      {Row::kAuditor, "aud"},     {Row::kServiceWith, "svc-yes"},  {Row::kServiceWithout, "svc-no"},
  };
  return *kRows;
}

enum class State { kRunning, kReturned, kFinished };

std::string Name(State state) {
  switch (state) {
    case State::kRunning: return "running";
    case State::kReturned: return "returned";
    case State::kFinished: return "finished";
  }
  return "";
}

// What a cell must show: a code, and for lists whether the instance is in
// them.
struct Outcome {
  StatusCode code = StatusCode::kOk;
  enum class Listed { kNotAList, kYes, kNo } listed = Listed::kNotAList;
  bool operator==(const Outcome& other) const {
    return code == other.code && listed == other.listed;
  }
};

std::string Describe(const Outcome& outcome) {
  std::string text = absl::StatusCodeToString(outcome.code);
  if (outcome.listed == Outcome::Listed::kYes) text += " (listed)";
  if (outcome.listed == Outcome::Listed::kNo) text += " (not listed)";
  return text;
}

Outcome Code(StatusCode code) { return Outcome{code}; }
Outcome Listed(bool listed) {
  return Outcome{StatusCode::kOk, listed ? Outcome::Listed::kYes : Outcome::Listed::kNo};
}

bool Unauthenticated(Row row) {
  return row == Row::kNone || row == Row::kUnknown || row == Row::kDisabled;
}

// The rules of who reads an instance, written out for this organisation.
bool Reads(Row row) {
  switch (row) {
    case Row::kApplicant: case Row::kSubject: case Row::kAssignee: case Row::kPastAssignee:
    case Row::kCandidate: case Row::kDelegate: case Row::kCc: case Row::kManagerAbove:
    case Row::kViewer: case Row::kProcessAdmin: case Row::kAuditor:
      return true;
    default:
      return false;
  }
}

// Every call on an instance: who may not even know of it.
std::optional<Outcome> Gate(Row row, bool service_may_act = true) {
  if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
  if (Reads(row)) return std::nullopt;
  if (service_may_act && row == Row::kServiceWith) return std::nullopt;
  return Code(StatusCode::kNotFound);
}

Outcome ReadRule(Row row, State) {
  return Gate(row, /*service_may_act=*/false).value_or(Code(StatusCode::kOk));
}

Outcome AnyoneSignedIn(Row row, State) {
  return Code(Unauthenticated(row) ? StatusCode::kUnauthenticated : StatusCode::kOk);
}

Outcome WorkflowAdminOnly(Row row, State) {
  if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
  return Code(row == Row::kWorkflowAdmin ? StatusCode::kOk : StatusCode::kPermissionDenied);
}

// An engine command the state must allow first (task commands check the
// instance is running before who acts).
Outcome RunningTaskCommand(Row row, State state, std::set<Row> allowed,
                           bool service_may_act = true) {
  if (auto gated = Gate(row, service_may_act)) return *gated;
  if (state != State::kRunning) return Code(StatusCode::kFailedPrecondition);
  return Code(allowed.count(row) ? StatusCode::kOk : StatusCode::kPermissionDenied);
}

// An applicant's command: who acts is checked before the state. Service
// accounts do not give it, so for them the instance is not there.
Outcome ApplicantCommand(Row row, State state, std::set<State> allowed_in) {
  if (auto gated = Gate(row, /*service_may_act=*/false)) return *gated;
  if (row != Row::kApplicant) return Code(StatusCode::kPermissionDenied);
  return Code(allowed_in.count(state) ? StatusCode::kOk : StatusCode::kFailedPrecondition);
}

struct Column {
  std::string rpc;
  std::function<Outcome(Row, State)> expected;
  // Runs the call on `instance` for `user`; returns its outcome.
  std::function<Outcome(const std::string& user, const std::string& instance)> call;
  // Sets up a fresh instance for a cell that is expected to succeed.
  bool mutates = false;
  // Extra steps on that fresh instance before the call.
  std::function<void(const std::string& instance)> prepare;
};

class AuthorizationMatrixTest : public ServerTest {
 protected:
  bool StartsWithOrganisation() const override { return false; }

  void SetUp() override {
    ServerTest::SetUp();
    auto organisation = workflow::ParseOrganisationYaml(kMatrixOrganisation);
    ASSERT_OK(organisation);
    ASSERT_OK(app_->directory().SeedOrganisation(*organisation));
    ASSERT_OK(Publish(kReviewDefinition, "publish-review", "wadmin"));
    attachments_ = v1::AttachmentService::NewStub(server_->InProcessChannel());
    ASSERT_OK_AND_ASSIGN(completed_upload_, Upload(/*complete=*/true));
    ASSERT_OK_AND_ASSIGN(open_upload_, Upload(/*complete=*/false));
  }

  // An upload by the applicant of kEvidence, completed or not.
  absl::StatusOr<std::string> Upload(bool complete) {
    v1::CreateUploadRequest create;
    create.set_request_id(NextId("upload"));
    create.set_definition_key("review");
    create.set_name("evidence.pdf");
    create.set_media_type("application/pdf");
    create.set_size(sizeof(kEvidence) - 1);
    auto created = client_->Call("app", *attachments_, &AS::CreateUpload, create);
    if (!created.ok()) return created.status();
    v1::UploadChunkRequest chunk;
    chunk.set_upload_id(created->upload().id());
    chunk.set_data(kEvidence);
    auto sent = client_->Call("app", *attachments_, &AS::UploadChunk, chunk);
    if (!sent.ok()) return sent.status();
    if (complete) {
      v1::CompleteUploadRequest done;
      done.set_upload_id(created->upload().id());
      done.set_sha256(storage::Sha256Hex(kEvidence));
      auto completed = client_->Call("app", *attachments_, &AS::CompleteUpload, done);
      if (!completed.ok()) return completed.status();
    }
    return created->upload().id();
  }

  std::string NextId(const std::string& what) { return absl::StrCat(what, "-", ++serial_); }

  v1::InstanceView Instance(const std::string& id) {
    auto view = client_->Get("aud", id);
    EXPECT_OK(view);
    return view.ok() ? *view : v1::InstanceView();
  }

  std::string TaskOf(const std::string& id, const std::string& step, const std::string& who) {
    auto history = client_->History("aud", id);
    EXPECT_OK(history);
    std::string found;
    for (const auto& event : history->events()) {
      if (!event.has_task_created() && !event.has_task_updated()) continue;
      const v1::Task& task =
          event.has_task_created() ? event.task_created().task() : event.task_updated().task();
      if (task.step_id() != step) continue;
      const bool group = task.has_candidate_group() && who == "group";
      if (task.assignee() == who || group || task.delegated_from() == who) found = task.id();
    }
    return found;
  }

  void Decide(const std::string& user, const std::string& task, v1::Action action,
              const std::vector<std::string>& users = {}) {
    v1::DecideTaskRequest request;
    request.set_task_id(task);
    request.set_action(action);
    request.set_comment("because");
    for (const auto& other : users) request.add_users(other);
    ASSERT_OK(client_->Decide(user, request, NextId("setup")));
  }

  // A review by app about subj, driven to `state` with every kind of
  // participant in it.
  std::string InstanceIn(State state) {
    auto started = client_->Start("app", "review",
                                  absl::StrCat("{employee: subj, notes: 'private notes', "
                                               "evidence: {sha256: '", storage::Sha256Hex(kEvidence),
                                               "', name: evidence.pdf, size: ", sizeof(kEvidence) - 1,
                                               ", media_type: application/pdf}}"),
                                  NextId("start"));
    EXPECT_OK(started);
    const std::string id = started->id();
    Decide("past", TaskOf(id, "first", "past"), v1::APPROVE);
    Decide("dfrom", TaskOf(id, "second", "dfrom"), v1::DELEGATE, {"dlg"});
    Decide("cur", TaskOf(id, "second", "cur"), v1::CC, {"cc"});
    if (state == State::kReturned) Decide("cur", TaskOf(id, "second", "cur"), v1::RETURN);
    if (state == State::kFinished) {
      Decide("cur", TaskOf(id, "second", "cur"), v1::APPROVE);
      Decide("dlg", TaskOf(id, "second", "dlg"), v1::APPROVE);
      v1::ClaimTaskRequest claim;
      claim.set_request_id(NextId("claim"));
      claim.set_id(TaskOf(id, "second", "group"));
      EXPECT_OK(client_->Call("cand", *client_->tasks, &v1::TaskService::Stub::ClaimTask, claim));
      Decide("cand", TaskOf(id, "second", "group"), v1::APPROVE);
    }
    const v1::InstanceStatus want = state == State::kRunning    ? v1::RUNNING
                                    : state == State::kReturned ? v1::RETURNED
                                                                : v1::APPROVED;
    EXPECT_EQ(Instance(id).status(), want) << Name(state);
    return id;
  }

  template <typename Stub, typename Request, typename Response>
  Outcome Run(const std::string& user, Stub& stub,
              grpc::Status (Stub::*method)(grpc::ClientContext*, const Request&, Response*),
              const Request& request) {
    return Code(client_->Call(user, stub, method, request).status().code());
  }

  std::vector<Column> Columns();

  using AS = v1::AttachmentService::Stub;
  static constexpr char kEvidence[] = "signed minutes";
  std::unique_ptr<AS> attachments_;
  std::string completed_upload_;
  std::string open_upload_;
  int serial_ = 0;
};

std::vector<Column> AuthorizationMatrixTest::Columns() {
  using IS = v1::InstanceService::Stub;
  using TS = v1::TaskService::Stub;
  using DS = v1::DefinitionService::Stub;
  using CS = v1::CalendarService::Stub;
  using US = v1::DirectoryService::Stub;
  auto cur_task = [this](const std::string& id) { return TaskOf(id, "second", "cur"); };
  std::vector<Column> columns;

  // Reads of one instance.
  columns.push_back({"GetInstance", ReadRule, [this](const std::string& user, const std::string& id) {
    v1::GetInstanceRequest request;
    request.set_id(id);
    return Run(user, *client_->instances, &IS::GetInstance, request);
  }});
  columns.push_back({"GetHistory", ReadRule, [this](const std::string& user, const std::string& id) {
    v1::GetHistoryRequest request;
    request.set_instance_id(id);
    return Run(user, *client_->instances, &IS::GetHistory, request);
  }});
  columns.push_back({"GetTask", ReadRule, [this, cur_task](const std::string& user,
                                                           const std::string& id) {
    v1::GetTaskRequest request;
    request.set_id(cur_task(id));
    return Run(user, *client_->tasks, &TS::GetTask, request);
  }});

  // Lists: everyone signed in may list; the instance is in them for readers.
  auto listed_for_readers = [](Row row, State) {
    if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
    return Listed(Reads(row));
  };
  columns.push_back({"ListInstances", listed_for_readers,
                     [this](const std::string& user, const std::string& id) {
    v1::ListInstancesRequest request;
    request.set_definition_key("review");
    request.set_page_size(1000);
    auto response = client_->Call(user, *client_->instances, &IS::ListInstances, request);
    if (!response.ok()) return Code(response.status().code());
    bool found = false;
    for (const auto& view : response->instances()) found |= view.id() == id;
    return Listed(found);
  }});
  columns.push_back({"ListTasks(instance)", listed_for_readers,
                     [this](const std::string& user, const std::string& id) {
    v1::ListTasksRequest request;
    request.set_instance_id(id);
    auto response = client_->Call(user, *client_->tasks, &TS::ListTasks, request);
    if (!response.ok()) return Code(response.status().code());
    return Listed(response->tasks_size() > 0);
  }});
  columns.push_back({"ListTasks(assignee=cur)",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       const bool may = row == Row::kAssignee || row == Row::kProcessAdmin ||
                                        row == Row::kAuditor;
                       return may ? Listed(true) : Code(StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::ListTasksRequest request;
    request.set_assignee("cur");
    request.set_instance_id(id);
    auto response = client_->Call(user, *client_->tasks, &TS::ListTasks, request);
    if (!response.ok()) return Code(response.status().code());
    return Listed(response->tasks_size() > 0);
  }});
  columns.push_back({"ListEvents",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       const bool may = row == Row::kAuditor || row == Row::kServiceWith;
                       return may ? Listed(true) : Code(StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string& id) {
    bool found = false;
    v1::ListEventsRequest request;
    request.set_page_size(1000);
    for (int page = 0; page < 100; ++page) {
      auto response = client_->Call(user, *client_->instances, &IS::ListEvents, request);
      if (!response.ok()) return Code(response.status().code());
      for (const auto& event : response->events()) found |= event.instance_id() == id;
      if (response->next_after_global_seq() == request.after_global_seq()) break;
      request.set_after_global_seq(response->next_after_global_seq());
    }
    return Listed(found);
  }});

  // The stream follows the feed's rules: auditors and watch-events
  // accounts, who find the instance's events in it.
  columns.push_back({"WatchEvents",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       const bool may = row == Row::kAuditor || row == Row::kServiceWith;
                       return may ? Listed(true) : Code(StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string& id) {
    grpc::ClientContext context;
    if (!user.empty()) context.AddMetadata("x-signoff-user", user);
    context.set_deadline(std::chrono::system_clock::now() + std::chrono::seconds(20));
    v1::WatchEventsRequest request;
    request.set_instance_id(id);
    auto reader = client_->events->WatchEvents(&context, request);
    v1::WatchEventsResponse item;
    if (!reader->Read(&item)) {
      return Code(static_cast<StatusCode>(reader->Finish().error_code()));
    }
    const bool found = item.event().event().instance_id() == id;
    context.TryCancel();
    while (reader->Read(&item)) {
    }
    reader->Finish();
    return Listed(found);
  }});
  // People read their own notifications; only auditors read another's.
  columns.push_back({"ListNotifications",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       const bool may = row == Row::kAuditor || row == Row::kApplicant;
                       return Code(may ? StatusCode::kOk : StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string&) {
    v1::ListNotificationsRequest request;
    request.set_recipient("app");
    return Run(user, *client_->notifications, &v1::NotificationService::Stub::ListNotifications,
               request);
  }});
  columns.push_back({"MarkNotificationsRead",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       return Code(StatusCode::kOk);
                     },
                     [this](const std::string& user, const std::string&) {
    v1::MarkNotificationsReadRequest request;
    request.set_up_to_id(1);
    return Run(user, *client_->notifications,
               &v1::NotificationService::Stub::MarkNotificationsRead, request);
  }});
  // CC to me: the copied user finds it; everyone else's list lacks it.
  columns.push_back({"ListInstances(cc_to_me)",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       return Listed(row == Row::kCc);
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::ListInstancesRequest request;
    request.set_cc_to_me(true);
    request.set_page_size(500);
    auto response = client_->Call(user, *client_->instances, &IS::ListInstances, request);
    if (!response.ok()) return Code(response.status().code());
    bool found = false;
    for (const auto& instance : response->instances()) found |= instance.id() == id;
    return Listed(found);
  }});

  columns.push_back({"ListAdminEvents",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       return Code(row == Row::kAuditor ? StatusCode::kOk
                                                        : StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string&) {
    v1::ListAdminEventsRequest request;
    return Run(user, *client_->audit, &v1::AuditService::Stub::ListAdminEvents, request);
  }});

  // Webhook subscriptions: service accounts that may watch subscribe
  // themselves; a workflow administrator may subscribe others, but not
  // itself (it may not watch), and alone replays (here a subscription that
  // does not exist).
  columns.push_back({"ListWebhooks", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    return Run(user, *v1::WebhookService::NewStub(server_->InProcessChannel()),
               &v1::WebhookService::Stub::ListWebhooks, v1::ListWebhooksRequest());
  }});
  columns.push_back({"CreateWebhook",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       if (row == Row::kServiceWith) return Code(StatusCode::kOk);
                       if (row == Row::kWorkflowAdmin) return Code(StatusCode::kInvalidArgument);
                       return Code(StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string&) {
    v1::CreateWebhookRequest request;
    request.set_request_id(NextId("matrix-webhook"));
    request.set_url("http://127.0.0.1:9/matrix");
    request.set_secret("a-secret-of-enough-bytes");
    return Run(user, *v1::WebhookService::NewStub(server_->InProcessChannel()),
               &v1::WebhookService::Stub::CreateWebhook, request);
  }});
  columns.push_back({"ReplayDeliveries",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       return Code(row == Row::kWorkflowAdmin ? StatusCode::kNotFound
                                                              : StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string&) {
    v1::ReplayDeliveriesRequest request;
    request.set_request_id(NextId("matrix-replay"));
    request.set_webhook_id("wh-none");
    return Run(user, *v1::WebhookService::NewStub(server_->InProcessChannel()),
               &v1::WebhookService::Stub::ReplayDeliveries, request);
  }});

  // Attachments: files are read through the instance holding them, by its
  // readers; an upload is its uploader's alone (the applicant's here).
  // Anyone signed in uploads for a definition with ATTACHMENT fields.
  auto read_attachment = [this](const std::string& user, const std::string& id) {
    v1::ReadAttachmentRequest request;
    request.set_sha256(storage::Sha256Hex(kEvidence));
    request.set_instance_id(id);
    return Run(user, *attachments_, &AS::ReadAttachment, request);
  };
  columns.push_back({"ReadAttachment", ReadRule, read_attachment});
  columns.push_back({"GetAttachment", ReadRule,
                     [this](const std::string& user, const std::string& id) {
    v1::GetAttachmentRequest request;
    request.set_sha256(storage::Sha256Hex(kEvidence));
    request.set_instance_id(id);
    return Run(user, *attachments_, &AS::GetAttachment, request);
  }});
  columns.push_back({"CreateUpload", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    v1::CreateUploadRequest request;
    request.set_request_id(NextId("matrix-upload"));
    request.set_definition_key("review");
    request.set_name("notes.pdf");
    request.set_media_type("application/pdf");
    request.set_size(10);
    return Run(user, *attachments_, &AS::CreateUpload, request);
  }});
  auto uploaders_only = [](Row row, State) {
    if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
    return Code(row == Row::kApplicant ? StatusCode::kOk : StatusCode::kNotFound);
  };
  columns.push_back({"UploadChunk", uploaders_only,
                     [this](const std::string& user, const std::string&) {
    v1::UploadChunkRequest request;
    request.set_upload_id(open_upload_);
    request.set_data(kEvidence);
    return Run(user, *attachments_, &AS::UploadChunk, request);
  }});
  columns.push_back({"CompleteUpload", uploaders_only,
                     [this](const std::string& user, const std::string&) {
    v1::CompleteUploadRequest request;
    request.set_upload_id(completed_upload_);
    request.set_sha256(storage::Sha256Hex(kEvidence));
    return Run(user, *attachments_, &AS::CompleteUpload, request);
  }});

  // Reports: whoever reads every instance of the definition (auditors,
  // its process admin, a viewer role it declares), and department heads
  // for their departments (boss heads ops); nobody else.
  auto report_rule = [](Row row, State) {
    if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
    const bool sees = row == Row::kAuditor || row == Row::kProcessAdmin ||
                      row == Row::kViewer || row == Row::kManagerAbove;
    return Code(sees ? StatusCode::kOk : StatusCode::kPermissionDenied);
  };
  using RS = v1::ReportService::Stub;
  auto report_column = [&](const std::string& name, auto method) {
    columns.push_back({name, report_rule, [this, method](const std::string& user,
                                                        const std::string&) {
      v1::ReportRequest request;
      request.set_definition_key("review");
      request.set_from("2026-01-01");
      request.set_to("2026-03-31");
      return Run(user, *v1::ReportService::NewStub(server_->InProcessChannel()), method,
                 request);
    }});
  };
  report_column("GetVolumeReport", &RS::GetVolumeReport);
  report_column("GetTimingReport", &RS::GetTimingReport);
  report_column("GetSlaReport", &RS::GetSlaReport);
  report_column("GetQualityReport", &RS::GetQualityReport);
  report_column("GetBacklogReport", &RS::GetBacklogReport);
  report_column("GetServiceReport", &RS::GetServiceReport);
  // Ledger balances are not kept per department: no department head's
  // share of them.
  columns.push_back({"GetLedgerReport",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       const bool sees =
                           row == Row::kAuditor || row == Row::kProcessAdmin || row == Row::kViewer;
                       return Code(sees ? StatusCode::kOk : StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string&) {
                       v1::LedgerReportRequest request;
                       request.set_definition_key("review");
                       request.set_from("2026-01-01");
                       request.set_to("2026-03-31");
                       return Run(user, *v1::ReportService::NewStub(server_->InProcessChannel()),
                                  &RS::GetLedgerReport, request);
                     }});

  // Ledger balances: process admins of the definition and auditors read
  // them; only process admins set limits.
  auto ledger_rule = [](bool setting) {
    return [setting](Row row, State) {
      if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
      const bool may = row == Row::kProcessAdmin || (!setting && row == Row::kAuditor);
      return Code(may ? StatusCode::kOk : StatusCode::kPermissionDenied);
    };
  };
  using LS = v1::LedgerService::Stub;
  columns.push_back({"ListLedgers", ledger_rule(false), [this](const std::string& user,
                                                                const std::string&) {
    v1::ListLedgersRequest request;
    request.set_definition_key("review");
    return Run(user, *client_->ledgers, &LS::ListLedgers, request);
  }});
  columns.push_back({"GetLedger", ledger_rule(false), [this](const std::string& user,
                                                              const std::string&) {
    v1::GetLedgerRequest request;
    request.set_definition_key("review");
    request.set_ledger("budget");
    return Run(user, *client_->ledgers, &LS::GetLedger, request);
  }});
  columns.push_back({"SetLedgerLimit", ledger_rule(true), [this](const std::string& user,
                                                                  const std::string&) {
    v1::SetLedgerLimitRequest request;
    request.set_request_id(NextId("limit"));
    request.set_definition_key("review");
    request.set_ledger("budget");
    request.set_limit(100);
    return Run(user, *client_->ledgers, &LS::SetLedgerLimit, request);
  }});

  // Not about the instance at all.
  columns.push_back({"PreviewRoute", AnyoneSignedIn, [this](const std::string& user,
                                                            const std::string&) {
    v1::PreviewRouteRequest request;
    request.set_definition_key("review");
    *request.mutable_form() = *workflow::ParseFormYaml("{employee: subj}");
    request.set_applicant("app");
    return Run(user, *client_->instances, &IS::PreviewRoute, request);
  }});
  columns.push_back({"StartInstance", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    v1::StartInstanceRequest request;
    request.set_request_id(NextId("matrix-start"));
    request.set_definition_key("review");
    *request.mutable_form() = *workflow::ParseFormYaml("{employee: subj}");
    return Run(user, *client_->instances, &IS::StartInstance, request);
  }});
  columns.push_back({"ValidateDefinition", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    v1::ValidateDefinitionRequest request;
    request.mutable_source()->set_yaml(kReviewDefinition);
    return Run(user, *client_->definitions, &DS::ValidateDefinition, request);
  }});
  columns.push_back({"GetDefinition", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    v1::GetDefinitionRequest request;
    request.set_key("review");
    return Run(user, *client_->definitions, &DS::GetDefinition, request);
  }});
  columns.push_back({"ListDefinitions", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    return Run(user, *client_->definitions, &DS::ListDefinitions, v1::ListDefinitionsRequest());
  }});
  columns.push_back({"PublishDefinition", WorkflowAdminOnly,
                     [this](const std::string& user, const std::string&) {
    v1::PublishDefinitionRequest request;
    request.set_request_id(NextId("matrix-publish"));
    request.mutable_source()->set_yaml(kReviewDefinition);
    return Run(user, *client_->definitions, &DS::PublishDefinition, request);
  }});
  columns.push_back({"ListCalendars", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    return Run(user, *client_->calendars, &CS::ListCalendars, v1::ListCalendarsRequest());
  }});
  columns.push_back({"GetCalendar",
                     [](Row row, State) {
                       // Signed-in callers get past the door; none is published.
                       return Code(Unauthenticated(row) ? StatusCode::kUnauthenticated
                                                        : StatusCode::kNotFound);
                     },
                     [this](const std::string& user, const std::string&) {
    v1::GetCalendarRequest request;
    request.set_name("none-published");
    return Run(user, *client_->calendars, &CS::GetCalendar, request);
  }});
  columns.push_back({"PublishCalendar", WorkflowAdminOnly,
                     [this](const std::string& user, const std::string&) {
    v1::PublishCalendarRequest request;
    request.set_request_id(NextId("matrix-calendar"));
    request.set_yaml("name: office\ntime_zone: UTC\nworking_hours: [{start: '09:00', end: '18:00'}]\n");
    return Run(user, *client_->calendars, &CS::PublishCalendar, request);
  }});
  columns.push_back({"GetUser", AnyoneSignedIn, [this](const std::string& user,
                                                       const std::string&) {
    v1::GetUserRequest request;
    request.set_id("app");
    return Run(user, *client_->directory, &US::GetUser, request);
  }});
  columns.push_back({"ListUsers", AnyoneSignedIn, [this](const std::string& user,
                                                         const std::string&) {
    return Run(user, *client_->directory, &US::ListUsers, v1::ListUsersRequest());
  }});
  columns.push_back({"UpsertUsers", WorkflowAdminOnly,
                     [this](const std::string& user, const std::string&) {
    v1::UpsertUsersRequest request;
    request.set_request_id(NextId("matrix-users"));
    auto* added = request.add_users();
    added->set_id("newcomer");
    added->set_department("ops");
    added->set_manager("boss");
    return Run(user, *client_->directory, &US::UpsertUsers, request);
  }});
  columns.push_back({"UpsertDepartments", WorkflowAdminOnly,
                     [this](const std::string& user, const std::string&) {
    v1::UpsertDepartmentsRequest request;
    request.set_request_id(NextId("matrix-departments"));
    auto* added = request.add_departments();
    added->set_id("legal");
    added->set_name("Legal");
    added->set_parent("root");
    return Run(user, *client_->directory, &US::UpsertDepartments, request);
  }});

  // Commands on the instance.
  columns.push_back({"WithdrawInstance",
                     [](Row row, State state) {
                       return ApplicantCommand(row, state, {State::kRunning, State::kReturned});
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::WithdrawInstanceRequest request;
    request.set_request_id(NextId("withdraw"));
    request.set_id(id);
    return Run(user, *client_->instances, &IS::WithdrawInstance, request);
  }, true});
  columns.push_back({"ResubmitInstance",
                     [](Row row, State state) {
                       return ApplicantCommand(row, state, {State::kReturned});
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::ResubmitInstanceRequest request;
    request.set_request_id(NextId("resubmit"));
    request.set_id(id);
    *request.mutable_form() = *workflow::ParseFormYaml("{employee: subj, notes: 'revised'}");
    return Run(user, *client_->instances, &IS::ResubmitInstance, request);
  }, true});
  columns.push_back({"AppealInstance",
                     [](Row row, State state) { return ApplicantCommand(row, state, {}); },
                     [this](const std::string& user, const std::string& id) {
    v1::AppealInstanceRequest request;
    request.set_request_id(NextId("appeal"));
    request.set_id(id);
    request.set_comment("please look again");
    return Run(user, *client_->instances, &IS::AppealInstance, request);
  }, true});
  columns.push_back({"CancelInstance",
                     [](Row row, State state) {
                       if (auto gated = Gate(row, /*service_may_act=*/false)) return *gated;
                       if (row != Row::kProcessAdmin) return Code(StatusCode::kPermissionDenied);
                       return Code(state == State::kFinished ? StatusCode::kFailedPrecondition
                                                             : StatusCode::kOk);
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::CancelInstanceRequest request;
    request.set_request_id(NextId("cancel"));
    request.set_id(id);
    request.set_comment("no longer needed");
    return Run(user, *client_->instances, &IS::CancelInstance, request);
  }, true});
  columns.push_back({"SignalInstance",
                     [](Row row, State state) {
                       if (auto gated = Gate(row)) return *gated;
                       if (row != Row::kProcessAdmin && row != Row::kServiceWith) {
                         return Code(StatusCode::kPermissionDenied);
                       }
                       return Code(state == State::kFinished ? StatusCode::kFailedPrecondition
                                                             : StatusCode::kOk);
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::SignalInstanceRequest request;
    request.set_request_id(NextId("signal"));
    request.set_id(id);
    request.set_name("docs_ready");
    return Run(user, *client_->instances, &IS::SignalInstance, request);
  }, true});
  columns.push_back({"ClaimTask",
                     [](Row row, State state) {
                       return RunningTaskCommand(row, state, {Row::kCandidate});
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::ClaimTaskRequest request;
    request.set_request_id(NextId("claim"));
    request.set_id(TaskOf(id, "second", "group"));
    return Run(user, *client_->tasks, &TS::ClaimTask, request);
  }, true});
  columns.push_back({"DecideTask",
                     [](Row row, State state) {
                       return RunningTaskCommand(row, state, {Row::kAssignee});
                     },
                     [this, cur_task](const std::string& user, const std::string& id) {
    v1::DecideTaskRequest request;
    request.set_task_id(cur_task(id));
    request.set_action(v1::APPROVE);
    auto response = client_->Decide(user, request, NextId("decide"));
    return Code(response.status().code());
  }, true});
  columns.push_back({"RemindTask",
                     [](Row row, State state) {
                       return RunningTaskCommand(row, state,
                                                 {Row::kApplicant, Row::kProcessAdmin},
                                                 /*service_may_act=*/false);
                     },
                     [this, cur_task](const std::string& user, const std::string& id) {
    v1::RemindTaskRequest request;
    request.set_request_id(NextId("remind"));
    request.set_id(cur_task(id));
    return Run(user, *client_->tasks, &TS::RemindTask, request);
  }, true});
  columns.push_back({"PauseClock",
                     [](Row row, State state) {
                       return RunningTaskCommand(row, state,
                                                 {Row::kAssignee, Row::kProcessAdmin});
                     },
                     [this, cur_task](const std::string& user, const std::string& id) {
    v1::ClockRequest request;
    request.set_request_id(NextId("pause"));
    request.set_task_id(cur_task(id));
    return Run(user, *client_->tasks, &TS::PauseClock, request);
  }, true});
  Column resume{"ResumeClock",
                [](Row row, State state) {
                  return RunningTaskCommand(row, state, {Row::kAssignee, Row::kProcessAdmin});
                },
                [this, cur_task](const std::string& user, const std::string& id) {
    v1::ClockRequest request;
    request.set_request_id(NextId("resume"));
    request.set_task_id(cur_task(id));
    return Run(user, *client_->tasks, &TS::ResumeClock, request);
  }, true};
  resume.prepare = [this, cur_task](const std::string& id) {
    v1::ClockRequest request;
    request.set_request_id(NextId("prepare-pause"));
    request.set_task_id(cur_task(id));
    EXPECT_OK(client_->Call("cur", *client_->tasks, &TS::PauseClock, request));
  };
  columns.push_back(resume);
  columns.push_back({"ExtendDeadline",
                     [](Row row, State state) {
                       return RunningTaskCommand(row, state,
                                                 {Row::kAssignee, Row::kProcessAdmin});
                     },
                     [this, cur_task](const std::string& user, const std::string& id) {
    v1::ExtendDeadlineRequest request;
    request.set_request_id(NextId("extend"));
    request.set_task_id(cur_task(id));
    request.mutable_by()->set_days(1);
    return Run(user, *client_->tasks, &TS::ExtendDeadline, request);
  }, true});
  // JobService. The review has no job steps: a key or incident id made
  // from one of its tasks names no job, for every caller signed in.
  using JS = v1::JobService::Stub;
  auto no_job = [](Row row, State) {
    return Code(Unauthenticated(row) ? StatusCode::kUnauthenticated : StatusCode::kNotFound);
  };
  columns.push_back({"ActivateJobs",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       const bool service = row == Row::kServiceWith || row == Row::kServiceWithout;
                       return Code(service ? StatusCode::kOk : StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string&) {
    v1::ActivateJobsRequest request;
    request.set_type("review-check");
    request.set_worker("matrix");
    request.set_max_jobs(1);
    request.mutable_lease()->set_seconds(30);
    return Run(user, *client_->jobs, &JS::ActivateJobs, request);
  }});
  columns.push_back({"CompleteJob", no_job, [this, cur_task](const std::string& user,
                                                             const std::string& id) {
    v1::CompleteJobRequest request;
    request.set_request_id(NextId("complete-job"));
    request.set_key(cur_task(id) + ".1");
    return Run(user, *client_->jobs, &JS::CompleteJob, request);
  }});
  columns.push_back({"FailJob", no_job, [this, cur_task](const std::string& user,
                                                         const std::string& id) {
    v1::FailJobRequest request;
    request.set_request_id(NextId("fail-job"));
    request.set_key(cur_task(id) + ".1");
    request.set_retries_left(1);
    return Run(user, *client_->jobs, &JS::FailJob, request);
  }});
  columns.push_back({"ThrowError", no_job, [this, cur_task](const std::string& user,
                                                            const std::string& id) {
    v1::ThrowErrorRequest request;
    request.set_request_id(NextId("throw-error"));
    request.set_key(cur_task(id) + ".1");
    request.set_code("oops");
    return Run(user, *client_->jobs, &JS::ThrowError, request);
  }});
  columns.push_back({"ResolveIncident", no_job, [this, cur_task](const std::string& user,
                                                                 const std::string& id) {
    v1::ResolveIncidentRequest request;
    request.set_request_id(NextId("resolve"));
    request.set_id(cur_task(id) + ".i1");
    request.set_retry_with_retries(1);
    return Run(user, *client_->jobs, &JS::ResolveIncident, request);
  }});
  // Incidents are listed by auditors and process admins (of this
  // definition, here); workflow admins run the catalog, not the cases.
  columns.push_back({"ListIncidents",
                     [](Row row, State) {
                       if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
                       const bool lists = row == Row::kAuditor || row == Row::kProcessAdmin;
                       return Code(lists ? StatusCode::kOk : StatusCode::kPermissionDenied);
                     },
                     [this](const std::string& user, const std::string&) {
    return Run(user, *client_->jobs, &JS::ListIncidents, v1::ListIncidentsRequest());
  }});
  // Unclaiming: the candidate claims the group task first (a no-op once it
  // holds it, refused once the instance stopped running); then only the
  // claimer or a process admin may give it back.
  columns.push_back({"UnclaimTask",
                     [](Row row, State state) {
                       return RunningTaskCommand(row, state,
                                                 {Row::kCandidate, Row::kProcessAdmin},
                                                 /*service_may_act=*/false);
                     },
                     [this](const std::string& user, const std::string& id) {
    v1::ClaimTaskRequest claim;
    claim.set_request_id(NextId("claim-first"));
    claim.set_id(TaskOf(id, "second", "group"));
    client_->Call("cand", *client_->tasks, &TS::ClaimTask, claim).IgnoreError();
    v1::UnclaimTaskRequest request;
    request.set_request_id(NextId("unclaim"));
    request.set_id(claim.id());
    return Run(user, *client_->tasks, &TS::UnclaimTask, request);
  }, true});
  // A bulk decision answers each decision as DecideTask would.
  columns.push_back({"DecideTasks",
                     [](Row row, State state) {
                       return RunningTaskCommand(row, state, {Row::kAssignee});
                     },
                     [this, cur_task](const std::string& user, const std::string& id) {
    v1::DecideTasksRequest request;
    v1::DecideTaskRequest& decision = *request.add_decisions();
    decision.set_request_id(NextId("bulk"));
    decision.set_task_id(cur_task(id));
    decision.set_action(v1::APPROVE);
    auto response = client_->Call(user, *client_->tasks, &TS::DecideTasks, request);
    if (!response.ok()) return Code(response.status().code());
    return Code(static_cast<StatusCode>(response->results(0).code()));
  }, true});
  // Delegations: a user's own, or anyone's for a workflow admin. They run
  // long after the test, so that no task here goes to a delegate.
  auto self_or_workflow_admin = [](Row row, State) {
    if (Unauthenticated(row)) return Code(StatusCode::kUnauthenticated);
    const bool may = row == Row::kOrdinary || row == Row::kWorkflowAdmin;
    return Code(may ? StatusCode::kOk : StatusCode::kPermissionDenied);
  };
  // Each one a week after the one before (from 2099-01-01): overlapping
  // delegations of one person are refused.
  auto weeks = std::make_shared<int64_t>(0);
  auto outsiders_delegation = [this, weeks] {
    constexpr int64_t kWeek = 7 * 24 * 3600;
    v1::SetDelegationRequest request;
    request.set_request_id(NextId("delegation"));
    v1::Delegation& delegation = *request.mutable_delegation();
    delegation.set_delegator("outsider");
    delegation.set_delegate("chief");
    const int64_t starts = 4070908800 + (*weeks)++ * kWeek;
    delegation.mutable_starts_at()->set_seconds(starts);
    delegation.mutable_ends_at()->set_seconds(starts + kWeek);
    return request;
  };
  columns.push_back({"SetDelegation", self_or_workflow_admin,
                     [this, outsiders_delegation](const std::string& user, const std::string&) {
    return Run(user, *client_->directory, &US::SetDelegation, outsiders_delegation());
  }});
  columns.push_back({"ListDelegations", AnyoneSignedIn,
                     [this](const std::string& user, const std::string&) {
    return Run(user, *client_->directory, &US::ListDelegations, v1::ListDelegationsRequest());
  }});
  columns.push_back({"RemoveDelegation", self_or_workflow_admin,
                     [this, outsiders_delegation](const std::string& user, const std::string&) {
    auto set = client_->Call("wadmin", *client_->directory, &US::SetDelegation,
                             outsiders_delegation());
    EXPECT_OK(set);
    v1::RemoveDelegationRequest request;
    request.set_request_id(NextId("remove-delegation"));
    request.set_id(set.ok() ? set->delegation().id() : "");
    return Run(user, *client_->directory, &US::RemoveDelegation, request);
  }});
  return columns;
}

TEST_F(AuthorizationMatrixTest, EveryCallerOnEveryRpcInEveryState) {
  const std::vector<Column> columns = Columns();
  int cells = 0;
  for (State state : {State::kRunning, State::kReturned, State::kFinished}) {
    // Calls expected to be refused change nothing, so they share one
    // instance; the rest get their own.
    const std::string shared = InstanceIn(state);
    for (const Column& column : columns) {
      for (const auto& [row, user] : Rows()) {
        const Outcome want = column.expected(row, state);
        std::string instance = shared;
        if (column.mutates && want.code == StatusCode::kOk) {
          instance = InstanceIn(state);
          if (column.prepare) column.prepare(instance);
        }
        const Outcome got = column.call(user, instance);
        ++cells;
        EXPECT_EQ(Describe(got), Describe(want))
            << column.rpc << " by " << (user.empty() ? "(no identity)" : user) << " on a "
            << Name(state) << " instance";
      }
    }
    // The shared instance is where the refused calls left it.
    const v1::InstanceView after = Instance(shared);
    EXPECT_EQ(after.status(), state == State::kRunning    ? v1::RUNNING
                              : state == State::kReturned ? v1::RETURNED
                                                          : v1::APPROVED);
  }
  std::printf("authorisation matrix: %zu caller kinds x %zu RPCs x 3 states = %d cells\n",
              Rows().size(), columns.size(), cells);
}

// Managers above and CCs read the instance without its confidential fields,
// in the view, in lists and in the history; parties read all of it.
TEST_F(AuthorizationMatrixTest, ConfidentialFieldsAreRedactedForCcAndManagersAbove) {
  const std::string id = InstanceIn(State::kRunning);
  for (const char* user : {"cc", "boss"}) {
    auto view = client_->Get(user, id);
    ASSERT_OK(view);
    EXPECT_EQ(view->form().fields().count("notes"), 0u) << user;
    EXPECT_EQ(view->form().fields().at("employee").string_value(), "subj");
    EXPECT_THAT(view->redacted_fields(), ::testing::ElementsAre("notes"));
    auto history = client_->History(user, id);
    ASSERT_OK(history);
    EXPECT_TRUE(history->chain_verified());
    EXPECT_THAT(history->redacted_fields(), ::testing::ElementsAre("notes"));
    for (const auto& event : history->events()) {
      if (event.has_instance_started()) {
        EXPECT_EQ(event.instance_started().form().fields().count("notes"), 0u) << user;
      }
    }
    v1::ListInstancesRequest list;
    list.set_definition_key("review");
    auto listed = client_->Call(user, *client_->instances,
                                &v1::InstanceService::Stub::ListInstances, list);
    ASSERT_OK(listed);
    ASSERT_EQ(listed->instances_size(), 1);
    EXPECT_EQ(listed->instances(0).form().fields().count("notes"), 0u) << user;
  }
  for (const char* user : {"app", "subj", "cur", "dlg", "viewer", "padmin", "aud"}) {
    auto view = client_->Get(user, id);
    ASSERT_OK(view);
    EXPECT_EQ(view->form().fields().at("notes").string_value(), "private notes") << user;
    EXPECT_TRUE(view->redacted_fields().empty()) << user;
  }
}

// A manager two levels above, beyond the definition's one, reads nothing.
TEST_F(AuthorizationMatrixTest, ManagersAboveStopAtTheDefinitionsDepth) {
  const std::string id = InstanceIn(State::kRunning);
  EXPECT_OK(client_->Get("boss", id));
  EXPECT_CODE(client_->Get("chief", id), StatusCode::kNotFound);
  EXPECT_CODE(client_->History("chief", id), StatusCode::kNotFound);
}

// An invisible instance and one that does not exist read alike.
TEST_F(AuthorizationMatrixTest, AnInvisibleInstanceReadsAsAMissingOne) {
  const std::string id = InstanceIn(State::kRunning);
  auto hidden = client_->Get("outsider", id);
  auto missing = client_->Get("outsider", "i0000000000000000000");
  ASSERT_EQ(hidden.status().code(), StatusCode::kNotFound);
  ASSERT_EQ(missing.status().code(), StatusCode::kNotFound);
  std::string shown = std::string(hidden.status().message());
  shown.replace(shown.find(id), id.size(), "ID");
  std::string absent = std::string(missing.status().message());
  absent.replace(absent.find("i0000000000000000000"), 20, "ID");
  EXPECT_EQ(shown, absent);
}

// A delegator follows the tasks they handed on; nobody else may list them.
TEST_F(AuthorizationMatrixTest, ADelegatorListsTheirDelegatesTasks) {
  const std::string id = InstanceIn(State::kRunning);
  v1::ListTasksRequest request;
  request.set_assignee("dlg");
  auto listed = client_->Call("dfrom", *client_->tasks, &v1::TaskService::Stub::ListTasks,
                              request);
  ASSERT_OK(listed);
  ASSERT_EQ(listed->tasks_size(), 1);
  EXPECT_EQ(listed->tasks(0).instance_id(), id);
  EXPECT_CODE(client_->Call("cur", *client_->tasks, &v1::TaskService::Stub::ListTasks, request),
              StatusCode::kPermissionDenied);
}

// Disabled users are outlined, not shown, to whoever does not run the
// directory.
TEST_F(AuthorizationMatrixTest, DisabledUsersAreOutlinedToNonAdmins) {
  v1::GetUserRequest request;
  request.set_id("gone");
  auto outlined = client_->Call("outsider", *client_->directory,
                                &v1::DirectoryService::Stub::GetUser, request);
  ASSERT_OK(outlined);
  EXPECT_TRUE(outlined->user().disabled());
  EXPECT_TRUE(outlined->user().manager().empty());
  EXPECT_TRUE(outlined->user().department().empty());
  auto full = client_->Call("wadmin", *client_->directory, &v1::DirectoryService::Stub::GetUser,
                            request);
  ASSERT_OK(full);
  EXPECT_EQ(full->user().manager(), "boss");
  // Listing everyone outlines them; listing a department or role would say
  // where they were, so they are left out.
  v1::ListUsersRequest list;
  auto everyone = client_->Call("outsider", *client_->directory,
                                &v1::DirectoryService::Stub::ListUsers, list);
  ASSERT_OK(everyone);
  int outlined_seen = 0;
  for (const auto& user : everyone->users()) {
    if (user.id() != "gone") continue;
    ++outlined_seen;
    EXPECT_TRUE(user.disabled());
    EXPECT_TRUE(user.manager().empty());
    EXPECT_TRUE(user.department().empty());
  }
  EXPECT_EQ(outlined_seen, 1);
  list.set_department("ops");
  auto in_ops = client_->Call("outsider", *client_->directory,
                              &v1::DirectoryService::Stub::ListUsers, list);
  ASSERT_OK(in_ops);
  for (const auto& user : in_ops->users()) EXPECT_NE(user.id(), "gone");
  auto as_admin = client_->Call("wadmin", *client_->directory,
                                &v1::DirectoryService::Stub::ListUsers, list);
  ASSERT_OK(as_admin);
  bool admin_sees = false;
  for (const auto& user : as_admin->users()) admin_sees |= user.id() == "gone";
  EXPECT_TRUE(admin_sees);
}

// The subject names an instance wherever it is listed, so a definition may
// not make it confidential.
TEST_F(AuthorizationMatrixTest, TheSubjectFieldCannotBeConfidential) {
  std::string yaml = kReviewDefinition;
  const std::string plain = "{name: employee, type: USER, required: true}";
  yaml.replace(yaml.find(plain), plain.size(),
               "{name: employee, type: USER, required: true, confidential: true}");
  EXPECT_CODE(Publish(yaml, "confidential-subject", "wadmin"), StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              ::testing::Contains(::testing::HasSubstr("form.fields[0].confidential")))
      << ::testing::PrintToString(client_->LastViolationFields());
}

// A disabled user previews as an unknown one: they can start nothing, and
// their manager chain is not for everyone.
TEST_F(AuthorizationMatrixTest, NoRouteIsPreviewedForADisabledApplicant) {
  v1::PreviewRouteRequest request;
  request.set_definition_key("review");
  *request.mutable_form() = *workflow::ParseFormYaml("{employee: subj}");
  request.set_applicant("gone");
  EXPECT_CODE(client_->Call("outsider", *client_->instances,
                            &v1::InstanceService::Stub::PreviewRoute, request),
              StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ::testing::ElementsAre("applicant"));
  request.set_applicant("app");
  EXPECT_OK(client_->Call("outsider", *client_->instances,
                          &v1::InstanceService::Stub::PreviewRoute, request));
}

// A process admin by the definition's admin_role lists others' tasks as one
// by the process-admin role does; a declared viewer does not.
TEST_F(AuthorizationMatrixTest, AProcessAdminByAdminRoleListsAnothersTasks) {
  std::string led = kReviewDefinition;
  led.replace(led.find("key: review"), 11, "key: review-led");
  led.replace(led.find("policies: {allow_self_approval: true}"), 37,
              "policies: {allow_self_approval: true, admin_role: hr-viewer}");
  v1::ListTasksRequest request;
  request.set_assignee("cur");
  EXPECT_CODE(client_->Call("viewer", *client_->tasks, &v1::TaskService::Stub::ListTasks,
                            request),
              StatusCode::kPermissionDenied);
  ASSERT_OK(Publish(led, "publish-review-led", "wadmin"));
  EXPECT_OK(client_->Call("viewer", *client_->tasks, &v1::TaskService::Stub::ListTasks,
                          request));
}

}  // namespace
}  // namespace signoff::testing
