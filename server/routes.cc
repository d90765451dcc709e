#include "server/routes.h"

#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "google/protobuf/message.h"
#include "workflow/limits.h"
#include "workflow/status_macros.h"

namespace signoff::server {

namespace {

std::string StringField(const google::protobuf::Message& message, const char* name) {
  const auto* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_STRING ||
      field->is_repeated()) {
    return "";
  }
  return message.GetReflection()->GetString(message, field);
}

const google::protobuf::Message* MessageField(const google::protobuf::Message& message,
                                              const char* name) {
  const auto* field = message.GetDescriptor()->FindFieldByName(name);
  if (field == nullptr || field->type() != google::protobuf::FieldDescriptor::TYPE_MESSAGE ||
      field->is_repeated() || !message.GetReflection()->HasField(message, field)) {
    return nullptr;
  }
  return &message.GetReflection()->GetMessage(message, field);
}

void SetIfEmpty(std::string& fact, std::string value) {
  if (fact.empty()) fact = std::move(value);
}

// The facts a request names: its request_id, an instance_id or task_id,
// and an id, which names an instance or a task by the service.
void NoteRequest(const google::protobuf::Message& request, const std::string& service,
                 CallFacts& facts) {
  facts.request_id = StringField(request, "request_id");
  SetIfEmpty(facts.instance_id, StringField(request, "instance_id"));
  SetIfEmpty(facts.task_id, StringField(request, "task_id"));
  if (service == "InstanceService") SetIfEmpty(facts.instance_id, StringField(request, "id"));
  if (service == "TaskService") SetIfEmpty(facts.task_id, StringField(request, "id"));
}

// What an answer adds: the instance started, the task decided.
void NoteResponse(const google::protobuf::Message& response, CallFacts& facts) {
  if (const auto* instance = MessageField(response, "instance")) {
    SetIfEmpty(facts.instance_id, StringField(*instance, "id"));
  }
  if (const auto* task = MessageField(response, "task")) {
    SetIfEmpty(facts.task_id, StringField(*task, "id"));
    SetIfEmpty(facts.instance_id, StringField(*task, "instance_id"));
  }
}

template <typename Service, typename Request, typename Response>
Route MakeRoute(Service& service,
                absl::StatusOr<Response> (Service::*method)(const app::Caller&, const Request&),
                const std::string& service_name) {
  return [&service, method, service_name](const app::Caller& caller, absl::string_view bytes,
                                          CallFacts* facts) -> absl::StatusOr<std::string> {
    Request request;
    if (!request.ParseFromArray(bytes.data(), static_cast<int>(bytes.size()))) {
      return absl::InvalidArgumentError(absl::StrCat(
          "the request could not be parsed as ", Request::descriptor()->full_name(),
          ": malformed bytes, a string that is not UTF-8, or nesting too deep"));
    }
    NoteRequest(request, service_name, *facts);
    SIGNOFF_RETURN_IF_ERROR(workflow::CheckRequestInput(request));
    SIGNOFF_ASSIGN_OR_RETURN(Response response, (service.*method)(caller, request));
    NoteResponse(response, *facts);
    return response.SerializeAsString();
  };
}

}  // namespace

std::map<std::string, Route> BuildRoutes(app::Application& application) {
  using app::AttachmentService;
  using app::AuditService;
  using app::CalendarService;
  using app::DefinitionService;
  using app::DirectoryService;
  using app::InstanceService;
  using app::NotificationService;
  using app::JobService;
  using app::TaskService;
  using app::ReportService;
  using app::WebhookService;
  using app::LedgerService;
  auto& definitions = application.definitions();
  auto& instances = application.instances();
  auto& tasks = application.tasks();
  auto& calendars = application.calendars();
  auto& directory = application.directory();
  auto& audit = application.audit();
  auto& notifications = application.notifications();
  auto& jobs = application.jobs();
  auto& webhooks = application.webhooks();
  auto& reports = application.reports();
  auto& ledgers = application.ledgers();
  auto& attachments = application.attachments();
  std::map<std::string, Route> routes;
#define SIGNOFF_ROUTE(service, object, Name) \
  routes["/signoff.v1." #service "/" #Name] = MakeRoute(object, &service::Name, #service)
  SIGNOFF_ROUTE(DefinitionService, definitions, ValidateDefinition);
  SIGNOFF_ROUTE(DefinitionService, definitions, PublishDefinition);
  SIGNOFF_ROUTE(DefinitionService, definitions, GetDefinition);
  SIGNOFF_ROUTE(DefinitionService, definitions, ListDefinitions);
  SIGNOFF_ROUTE(InstanceService, instances, StartInstance);
  SIGNOFF_ROUTE(InstanceService, instances, PreviewRoute);
  SIGNOFF_ROUTE(InstanceService, instances, GetInstance);
  SIGNOFF_ROUTE(InstanceService, instances, ListInstances);
  SIGNOFF_ROUTE(InstanceService, instances, GetHistory);
  SIGNOFF_ROUTE(InstanceService, instances, ListEvents);
  SIGNOFF_ROUTE(InstanceService, instances, WithdrawInstance);
  SIGNOFF_ROUTE(InstanceService, instances, ResubmitInstance);
  SIGNOFF_ROUTE(InstanceService, instances, AppealInstance);
  SIGNOFF_ROUTE(InstanceService, instances, CancelInstance);
  SIGNOFF_ROUTE(InstanceService, instances, SignalInstance);
  SIGNOFF_ROUTE(TaskService, tasks, ListTasks);
  SIGNOFF_ROUTE(TaskService, tasks, GetTask);
  SIGNOFF_ROUTE(TaskService, tasks, ClaimTask);
  SIGNOFF_ROUTE(TaskService, tasks, DecideTask);
  SIGNOFF_ROUTE(TaskService, tasks, RemindTask);
  SIGNOFF_ROUTE(TaskService, tasks, PauseClock);
  SIGNOFF_ROUTE(TaskService, tasks, ResumeClock);
  SIGNOFF_ROUTE(TaskService, tasks, ExtendDeadline);
  SIGNOFF_ROUTE(TaskService, tasks, UnclaimTask);
  SIGNOFF_ROUTE(TaskService, tasks, DecideTasks);
  SIGNOFF_ROUTE(CalendarService, calendars, PublishCalendar);
  SIGNOFF_ROUTE(CalendarService, calendars, GetCalendar);
  SIGNOFF_ROUTE(CalendarService, calendars, ListCalendars);
  SIGNOFF_ROUTE(DirectoryService, directory, UpsertUsers);
  SIGNOFF_ROUTE(DirectoryService, directory, UpsertDepartments);
  SIGNOFF_ROUTE(DirectoryService, directory, GetUser);
  SIGNOFF_ROUTE(DirectoryService, directory, ListUsers);
  SIGNOFF_ROUTE(DirectoryService, directory, SetDelegation);
  SIGNOFF_ROUTE(DirectoryService, directory, ListDelegations);
  SIGNOFF_ROUTE(DirectoryService, directory, RemoveDelegation);
  SIGNOFF_ROUTE(AuditService, audit, ListAdminEvents);
  SIGNOFF_ROUTE(NotificationService, notifications, ListNotifications);
  SIGNOFF_ROUTE(NotificationService, notifications, MarkNotificationsRead);
  SIGNOFF_ROUTE(JobService, jobs, ActivateJobs);
  SIGNOFF_ROUTE(JobService, jobs, CompleteJob);
  SIGNOFF_ROUTE(JobService, jobs, FailJob);
  SIGNOFF_ROUTE(JobService, jobs, ThrowError);
  SIGNOFF_ROUTE(JobService, jobs, ListIncidents);
  SIGNOFF_ROUTE(JobService, jobs, ResolveIncident);
  SIGNOFF_ROUTE(WebhookService, webhooks, CreateWebhook);
  SIGNOFF_ROUTE(WebhookService, webhooks, ListWebhooks);
  SIGNOFF_ROUTE(WebhookService, webhooks, DeleteWebhook);
  SIGNOFF_ROUTE(WebhookService, webhooks, ListDeliveries);
  SIGNOFF_ROUTE(WebhookService, webhooks, ReplayDeliveries);
  SIGNOFF_ROUTE(ReportService, reports, GetVolumeReport);
  SIGNOFF_ROUTE(ReportService, reports, GetTimingReport);
  SIGNOFF_ROUTE(ReportService, reports, GetSlaReport);
  SIGNOFF_ROUTE(ReportService, reports, GetQualityReport);
  SIGNOFF_ROUTE(ReportService, reports, GetBacklogReport);
  SIGNOFF_ROUTE(ReportService, reports, GetServiceReport);
  SIGNOFF_ROUTE(ReportService, reports, GetLedgerReport);
  SIGNOFF_ROUTE(LedgerService, ledgers, ListLedgers);
  SIGNOFF_ROUTE(LedgerService, ledgers, GetLedger);
  SIGNOFF_ROUTE(LedgerService, ledgers, SetLedgerLimit);
  SIGNOFF_ROUTE(AttachmentService, attachments, CreateUpload);
  SIGNOFF_ROUTE(AttachmentService, attachments, UploadChunk);
  SIGNOFF_ROUTE(AttachmentService, attachments, CompleteUpload);
  SIGNOFF_ROUTE(AttachmentService, attachments, GetAttachment);
  SIGNOFF_ROUTE(AttachmentService, attachments, ReadAttachment);
#undef SIGNOFF_ROUTE
  return routes;
}

}  // namespace signoff::server
