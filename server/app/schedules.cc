#include "server/app/schedules.h"

#include <set>

#include "absl/random/random.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_replace.h"
#include "server/app/views.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {

absl::StatusOr<ScheduleRound> ScheduleFiring::StartDue() {
  SIGNOFF_ASSIGN_OR_RETURN(auto definitions, context_.LatestDefinitions());
  ScheduleRound round;
  for (const auto& published : definitions) {
    if (!published->definition().has_schedule()) continue;
    absl::Status status = StartDueOf(*published, round);
    if (!status.ok()) round.failures.push_back({published->definition().key(), "", status});
  }
  return round;
}

absl::Status ScheduleFiring::StartDueOf(const v1::PublishedDefinition& published,
                                        ScheduleRound& round) {
  const v1::WorkflowDefinition& definition = published.definition();
  const EngineContext engine = context_.ContextFor(Caller{});
  const workflow::BusinessCalendar* calendar =
      engine.calendars == nullptr ? nullptr : engine.calendars->Find(definition.calendar());
  if (calendar == nullptr) {
    return absl::FailedPreconditionError(
        absl::StrCat("business calendar ", definition.calendar(), " is not published"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::optional<absl::Time> last,
                           context_.store().LastScheduledRun(definition.key()));
  // The last run started is looked at again, so that subjects a round cut
  // short did not reach still start; those it reached are skipped below.
  const absl::Time after = last ? *last - absl::Microseconds(1)
                                : workflow::FromTimestamp(published.published_at());
  SIGNOFF_ASSIGN_OR_RETURN(
      std::vector<workflow::ScheduledRun> due,
      workflow::DueRuns(definition.schedule(), *calendar, after, context_.Now()));
  for (const auto& run : due) {
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::ScheduleStart> done,
                             context_.store().ListScheduleStarts(definition.key(), run.period));
    std::set<std::string> started;
    for (const auto& start : done) started.insert(start.subject);
    for (const std::string& subject : SubjectsOf(definition.schedule())) {
      if (started.count(subject)) continue;
      const std::string id = absl::StrCat(definition.key(), "/", run.period, "/", subject);
      absl::Status status = StartOne(published, run, subject);
      if (status.ok()) {
        round.started.push_back(id);
        continue;
      }
      if (!absl::IsAlreadyExists(status)) {
        round.failures.push_back({definition.key(), subject, status});
        continue;
      }
      // Either the run's record exists (another replica started or skipped
      // it: nothing to do) or an open instance holds the subject. Writing
      // the skip tells the two apart, under the same unique key.
      // The store names the subject by its key, definition and subject
      // joined by a unit separator.
      const std::string reason = absl::StrReplaceAll(status.message(), {{"\x1f", "/"}});
      absl::Status skip = RecordSkip(definition.key(), run, subject, reason);
      if (skip.ok()) {
        round.skipped.push_back({id, reason});
      } else if (!absl::IsAlreadyExists(skip)) {
        round.failures.push_back({definition.key(), subject, skip});
      }
    }
  }
  return absl::OkStatus();
}

std::vector<std::string> ScheduleFiring::SubjectsOf(const v1::Schedule& schedule) const {
  if (schedule.subjects_size() > 0) {
    return {schedule.subjects().begin(), schedule.subjects().end()};
  }
  const EngineContext engine = context_.ContextFor(Caller{});
  return engine.directory->HoldersOf(schedule.subjects_with_role().name(),
                                     schedule.subjects_with_role().department());
}

absl::Status ScheduleFiring::StartOne(const v1::PublishedDefinition& published,
                                      const workflow::ScheduledRun& run,
                                      const std::string& subject) {
  const v1::WorkflowDefinition& definition = published.definition();
  v1::StartInstanceRequest start;
  start.set_definition_key(definition.key());
  start.set_definition_version(published.version());
  *start.mutable_form() = definition.schedule().form();
  (*start.mutable_form()->mutable_fields())[definition.subject().field()].set_string_value(subject);
  // Unique per attempt: what keeps a run from starting twice is its
  // schedule record, which a second attempt meets as ALREADY_EXISTS.
  static thread_local absl::BitGen random;
  start.set_request_id(absl::StrCat("schedule-", absl::Hex(absl::Uniform<uint64_t>(random)),
                                    absl::Hex(absl::Uniform<uint64_t>(random))));
  InstanceCommand command;
  command.method = "StartInstance";
  command.request = &start;
  command.request_id = start.request_id();
  *command.command.mutable_start() = start;
  command.command.set_scheduled_period(run.period);
  command.schedule_start = storage::ScheduleStart{definition.key(), run.period, subject, "", run.at, ""};
  command.reply = InstanceReply;
  v1::InstanceResponse reply;
  // The service account itself calls, so that it is the applicant.
  const Caller applicant{definition.schedule().applicant()};
  return pipeline_.Run(applicant, command, reply);
}

absl::Status ScheduleFiring::RecordSkip(const std::string& definition_key,
                                        const workflow::ScheduledRun& run,
                                        const std::string& subject, const std::string& reason) {
  storage::Mutation mutation;
  mutation.ledgers.schedule_start =
      storage::ScheduleStart{definition_key, run.period, subject, "", run.at, reason};
  return context_.store().Commit(std::move(mutation)).status();
}

}  // namespace signoff::app
