#pragma once

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "server/app/app_context.h"
#include "server/app/command_pipeline.h"
#include "storage/store.h"
#include "workflow/schedule.h"

namespace signoff::app {

// What one round of scheduled starts did.
struct ScheduleRound {
  // "definition/period/subject" of each instance started.
  std::vector<std::string> started;
  struct Failure {
    std::string definition_key;
    std::string subject;
    absl::Status status;
  };
  std::vector<Failure> failures;
};

// Starts the instances that definitions' schedules have due, each through
// the command pipeline with the schedule's service account as applicant.
// Each (definition, period, subject) starts once: its record is committed
// with the instance under a unique key, so several replicas or a restart
// mid-round start nothing twice.
class ScheduleFiring {
 public:
  ScheduleFiring(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline) {}

  // Fails only when the published definitions cannot be read.
  absl::StatusOr<ScheduleRound> StartDue();

 private:
  absl::Status StartDueOf(const v1::PublishedDefinition& published, ScheduleRound& round);
  std::vector<std::string> SubjectsOf(const v1::Schedule& schedule) const;
  absl::Status StartOne(const v1::PublishedDefinition& published,
                        const workflow::ScheduledRun& run, const std::string& subject);

  AppContext& context_;
  CommandPipeline& pipeline_;
};

}  // namespace signoff::app
