#pragma once

#include <map>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/app_context.h"
#include "storage/reports.h"

namespace signoff::app {

// Where a count lands: a definition, a department and a day, under each
// of the grouping dimensions it is reported by.
struct CellPlace {
  std::string definition_key;
  std::string department;
  int32_t day = 0;
  // (dimension, value) pairs, kReportDimAll first.
  std::vector<std::pair<std::string, std::string>> dims;
};

// A duration counted into a cell, in seconds.
struct Durations {
  int64_t wall = 0;
  int64_t business = 0;
};

// Adds counts and durations to cells, merging those that share a key;
// each also goes to its dekad's and month's rollups (see report_periods.h).
class CellBook {
 public:
  void Count(const CellPlace& place, const std::string& metric, int64_t count);
  // `times` -1 takes a measurement back out.
  void Measure(const CellPlace& place, const std::string& metric, const Durations& durations,
               int64_t times = 1);
  // Adds to the count and total_wall of the cell alone (no histogram).
  void Total(const CellPlace& place, const std::string& metric, int64_t count, int64_t total);
  std::vector<storage::ReportCell> Take();
  size_t size() const { return cells_.size(); }

 private:
  storage::ReportCell& Cell(const storage::ReportCellKey& key);
  template <typename Change>
  void ForEachCell(const CellPlace& place, const std::string& metric, const Change& change);

  std::map<storage::ReportCellKey, storage::ReportCell> cells_;
};

// Days since 1970-01-01 of `time` in `zone`.
int32_t DayNumber(absl::Time time, absl::TimeZone zone);

// The zone a definition's report days are read in: its calendar's, or UTC
// without one.
absl::TimeZone ReportZoneOf(const workflow::CalendarSet& calendars,
                            const v1::WorkflowDefinition& definition);

// Folds a run of committed events into the report projections: starts
// from the stored facts of the instances they touch, and yields the facts
// they changed and the cells they add to. Deterministic given the same
// events, definitions, calendars and directory, so that a rebuild from
// the event log gives what following the feed gave.
class ReportProjection {
 public:
  ReportProjection(AppContext& context, storage::ReportFacts facts);
  ~ReportProjection();

  absl::Status Apply(const storage::FeedRecord& record);
  // What the events applied so far change; the facts and the book start
  // empty afterwards.
  storage::ReportWrites TakeWrites();

 private:
  struct Definition;

  absl::StatusOr<const Definition*> DefinitionOf(const std::string& key, int32_t version);
  CellPlace InstancePlace(const storage::ReportInstanceFact& fact, absl::Time at,
                          const Definition& definition) const;
  CellPlace TaskPlace(const storage::ReportTaskFact& task, absl::Time at,
                      const Definition& definition) const;
  Durations Between(absl::Time from, absl::Time to, const Definition& definition,
                    const std::string& step_id) const;

  absl::Status ApplyToInstance(const v1::Event& event, storage::ReportInstanceFact& instance,
                               const Definition& definition);
  void Started(const v1::Event& event, const storage::FeedRecord& record,
               const Definition& definition);
  void TaskCreated(const v1::Task& task, absl::Time at, const storage::ReportInstanceFact& instance,
                   const Definition& definition);
  void TaskUpdated(const v1::Task& task, absl::Time at);
  void TaskCompleted(const v1::Task& task, absl::Time at, storage::ReportInstanceFact& instance,
                     const Definition& definition);
  void ClockChanged(const v1::Event& event, const Definition& definition);
  void SlaBreached(const v1::Event& event, const Definition& definition);
  void Finished(const v1::Event& event, storage::ReportInstanceFact& instance,
                const Definition& definition);
  void Appealed(storage::ReportInstanceFact& instance, const Definition& definition);
  // Counts the instance's finish `times` (1, or -1 to take it back).
  void CountFinish(const storage::ReportInstanceFact& instance, const Definition& definition,
                   int64_t times);
  void TakeRating(const google::protobuf::Struct& values, storage::ReportInstanceFact& instance,
                  const Definition& definition);

  // The open tasks of one step token, by task id.
  std::vector<storage::ReportTaskFact*> TasksOf(const std::string& instance_id,
                                                const std::string& token);
  storage::ReportTaskFact* Task(const std::string& id);
  void Changed(const storage::ReportTaskFact& task) { changed_tasks_.insert(task.task_id); }

  AppContext& context_;
  std::shared_ptr<const workflow::CalendarSet> calendars_;
  std::shared_ptr<const workflow::Directory> directory_;
  std::map<std::pair<std::string, int32_t>, std::unique_ptr<Definition>> definitions_;
  std::map<std::string, storage::ReportInstanceFact> instances_;
  std::map<std::string, storage::ReportTaskFact> tasks_;
  std::set<std::string> changed_instances_;
  std::set<std::string> changed_tasks_;
  std::set<std::string> removed_tasks_;
  CellBook book_;
};

// The metrics cells count (storage::ReportCellKey::metric).
namespace metric {
inline constexpr char kStarted[] = "started";
inline constexpr char kFinished[] = "finished";
// + the final status's name.
inline constexpr char kOutcome[] = "outcome:";
// + the END step's id.
inline constexpr char kEndStep[] = "end:";
// + the END step's named business outcome (KEPT, TERMINATED, ...).
inline constexpr char kNamedOutcome[] = "named_outcome:";
inline constexpr char kFirstPass[] = "first_pass";
// count: resubmits of the instances finished.
inline constexpr char kResubmits[] = "resubmits";
inline constexpr char kFcrEligible[] = "fcr_eligible";
inline constexpr char kFcr[] = "fcr";
// total_wall: the ratings' sum in thousandths, since cells add integers.
inline constexpr char kCsat[] = "csat";
inline constexpr char kTaskCreated[] = "task_created";
// Durations from pending to decision.
inline constexpr char kDecided[] = "decided";
// + the action's name.
inline constexpr char kDecision[] = "decision:";
// + action ":" code; dimension all only.
inline constexpr char kReason[] = "reason:";
inline constexpr char kSlaTask[] = "sla_task";
inline constexpr char kSlaMet[] = "sla_met";
inline constexpr char kBreach[] = "breach";
inline constexpr char kEscalation[] = "escalation";
// total_wall: seconds paused.
inline constexpr char kPaused[] = "paused";
}  // namespace metric

}  // namespace signoff::app
