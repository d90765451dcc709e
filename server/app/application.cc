#include "server/app/application.h"

#include "workflow/status_macros.h"

namespace signoff::app {

Application::Application(std::unique_ptr<AppContext> context)
    : context_(std::move(context)),
      pipeline_(*context_),
      feed_(context_->store()),
      definitions_(*context_, pipeline_),
      instances_(*context_, pipeline_),
      tasks_(*context_, pipeline_),
      calendars_(*context_, pipeline_),
      directory_(*context_, pipeline_),
      audit_(*context_),
      events_(*context_, feed_),
      notifications_(*context_),
      jobs_(*context_, pipeline_, job_board_),
      timers_(*context_, pipeline_),
      schedules_(*context_, pipeline_),
      // Deliveries are scheduled in wall time, which the sender's timeouts
      // and receivers' signature checks use, not the application's clock.
      webhooks_(*context_, pipeline_, [] { return absl::Now(); }),
      reports_(*context_),
      ledgers_(*context_, pipeline_),
      attachments_(*context_, pipeline_),
      report_projector_(*context_,
                        [this](int64_t after, int limit) { return feed_.Read(after, limit); }) {
  pipeline_.AddPostCommitHook([this](const Committed& committed) {
    if (!committed.events.empty()) feed_.CommitNoticed();
  });
  pipeline_.AddPostCommitHook(
      [this](const Committed& committed) { job_board_.NoteCommitted(committed); });
}

absl::StatusOr<std::unique_ptr<Application>> Application::Create(
    std::shared_ptr<storage::Store> store, Clock clock) {
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<AppContext> context,
                           AppContext::Create(std::move(store), std::move(clock)));
  return std::unique_ptr<Application>(new Application(std::move(context)));
}

}  // namespace signoff::app
