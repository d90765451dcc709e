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
  // The runs settled without an instance: the subject's open instance
  // kept it from starting. Recorded, so later rounds leave them be.
  struct Skip {
    std::string run;  // "definition/period/subject"
    std::string reason;
  };
  std::vector<Skip> skipped;
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
// mid-round start nothing twice. A start refused because the subject
// already has an open instance is recorded as skipped under the same key,
// so the run settles rather than being tried again every round.
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
  // Records the run for the subject as skipped; ALREADY_EXISTS when the
  // run already has its record (another replica started or skipped it).
  absl::Status RecordSkip(const std::string& definition_key, const workflow::ScheduledRun& run,
                          const std::string& subject, const std::string& reason);

  AppContext& context_;
  CommandPipeline& pipeline_;
};

}  // namespace signoff::app
