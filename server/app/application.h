#pragma once

#include <memory>

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/attachment_service.h"
#include "server/app/audit_service.h"
#include "server/app/calendar_service.h"
#include "server/app/command_pipeline.h"
#include "server/app/definition_service.h"
#include "server/app/directory_service.h"
#include "server/app/event_feed.h"
#include "server/app/event_service.h"
#include "server/app/instance_service.h"
#include "server/app/notification_service.h"
#include "server/app/report_projector.h"
#include "server/app/report_service.h"
#include "server/app/schedules.h"
#include "server/app/job_board.h"
#include "server/app/job_service.h"
#include "server/app/ledger_service.h"
#include "server/app/task_service.h"
#include "server/app/timers.h"
#include "server/app/webhook_service.h"

namespace signoff::app {

// The whole application, with no transport: one object per service over a
// shared context and one command pipeline. Transports (gRPC, HTTP) call
// the services; background work calls timers(). Thread-safe.
class Application {
 public:
  static absl::StatusOr<std::unique_ptr<Application>> Create(
      std::shared_ptr<storage::Store> store, Clock clock);

  AppContext& context() { return *context_; }
  CommandPipeline& pipeline() { return pipeline_; }
  DefinitionService& definitions() { return definitions_; }
  InstanceService& instances() { return instances_; }
  TaskService& tasks() { return tasks_; }
  CalendarService& calendars() { return calendars_; }
  DirectoryService& directory() { return directory_; }
  AuditService& audit() { return audit_; }
  EventService& events() { return events_; }
  NotificationService& notifications() { return notifications_; }
  JobService& jobs() { return jobs_; }
  // Where long polls for jobs wait; closed when the server stops.
  JobBoard& job_board() { return job_board_; }
  TimerFiring& timers() { return timers_; }
  ScheduleFiring& schedules() { return schedules_; }
  // Follows every commit; the server starts it with its options.
  EventFeed& feed() { return feed_; }
  WebhookService& webhooks() { return webhooks_; }
  ReportService& reports() { return reports_; }
  LedgerService& ledgers() { return ledgers_; }
  AttachmentService& attachments() { return attachments_; }
  // Keeps the report projections up with the feed; the server starts it
  // (Follow) once the feed runs.
  ReportProjector& report_projector() { return report_projector_; }

 private:
  explicit Application(std::unique_ptr<AppContext> context);

  std::unique_ptr<AppContext> context_;
  CommandPipeline pipeline_;
  EventFeed feed_;
  DefinitionService definitions_;
  InstanceService instances_;
  TaskService tasks_;
  CalendarService calendars_;
  DirectoryService directory_;
  AuditService audit_;
  EventService events_;
  NotificationService notifications_;
  JobBoard job_board_;
  JobService jobs_;
  TimerFiring timers_;
  ScheduleFiring schedules_;
  WebhookService webhooks_;
  ReportService reports_;
  LedgerService ledgers_;
  AttachmentService attachments_;
  // Last, so that it stops before what it reads goes away.
  ReportProjector report_projector_;
};

}  // namespace signoff::app
