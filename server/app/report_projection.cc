#include "server/app/report_projection.h"

#include <algorithm>
#include <cmath>

#include "absl/strings/str_cat.h"
#include "server/app/report_histogram.h"
#include "server/app/report_periods.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {
namespace {

using storage::ReportInstanceFact;
using storage::ReportTaskFact;

int64_t MicrosOf(const google::protobuf::Timestamp& time) {
  return workflow::ToUnixMicros(time);
}

absl::Time TimeOf(int64_t micros) { return absl::FromUnixMicros(micros); }

absl::Time EventTime(const v1::Event& event) { return absl::FromUnixMicros(MicrosOf(event.time())); }

// Who holds a task, as reports group it.
std::string ApproverOf(const v1::Task& task) {
  if (!task.assignee().empty()) return task.assignee();
  if (!task.candidate_group().role().empty()) {
    return absl::StrCat(task.candidate_group().role(), "@", task.candidate_group().department());
  }
  return "";
}

bool IsPending(const v1::Task& task) { return task.status() == v1::PENDING; }

}  // namespace

// ------------------------------------------------------------ CellBook

storage::ReportCell& CellBook::Cell(const storage::ReportCellKey& key) {
  storage::ReportCell& cell = cells_[key];
  cell.key = key;
  return cell;
}

// Each cell goes to its day and to its dekad's and month's rollups, and
// (but for the `all` dimension, grouped by department itself) to all three
// summed over every department, which is what callers who see every
// department read.
template <typename Change>
void CellBook::ForEachCell(const CellPlace& place, const std::string& metric,
                           const Change& change) {
  for (const auto& [dim, value] : place.dims) {
    for (const Rollup rollup : kRollups) {
      storage::ReportCellKey key{place.definition_key,        metric, RollupDim(dim, rollup),
                                 value, place.department, RollupStart(place.day, rollup)};
      change(Cell(key));
      if (dim == storage::kReportDimAll) continue;
      key.dim += storage::kReportEveryDepartmentSuffix;
      key.department = storage::kReportEveryDepartment;
      change(Cell(key));
    }
  }
}

void CellBook::Count(const CellPlace& place, const std::string& metric, int64_t count) {
  ForEachCell(place, metric, [&](storage::ReportCell& cell) { cell.count += count; });
}

void CellBook::Measure(const CellPlace& place, const std::string& metric,
                       const Durations& durations, int64_t times) {
  const int32_t wall_bucket = BucketOf(durations.wall);
  const int32_t business_bucket = BucketOf(durations.business);
  ForEachCell(place, metric, [&](storage::ReportCell& cell) {
    cell.count += times;
    cell.total_wall += times * durations.wall;
    cell.total_business += times * durations.business;
    cell.wall_hist[wall_bucket] += times;
    cell.business_hist[business_bucket] += times;
  });
}

void CellBook::Total(const CellPlace& place, const std::string& metric, int64_t count,
                     int64_t total) {
  ForEachCell(place, metric, [&](storage::ReportCell& cell) {
    cell.count += count;
    cell.total_wall += total;
  });
}

std::vector<storage::ReportCell> CellBook::Take() {
  std::vector<storage::ReportCell> cells;
  cells.reserve(cells_.size());
  for (auto& [key, cell] : cells_) cells.push_back(std::move(cell));
  cells_.clear();
  return cells;
}

int32_t DayNumber(absl::Time time, absl::TimeZone zone) {
  const absl::CivilDay day = absl::ToCivilDay(time, zone);
  return static_cast<int32_t>(day - absl::CivilDay(1970, 1, 1));
}

absl::TimeZone ReportZoneOf(const workflow::CalendarSet& calendars,
                            const v1::WorkflowDefinition& definition) {
  const workflow::BusinessCalendar* calendar = calendars.Find(definition.calendar());
  return calendar == nullptr ? absl::UTCTimeZone() : calendar->zone();
}

// ------------------------------------------------------------ ReportProjection

// What the projection needs of one definition version.
struct ReportProjection::Definition {
  std::shared_ptr<const v1::PublishedDefinition> published;
  absl::TimeZone zone = absl::UTCTimeZone();
  // Counts end-to-end business time; null for wall time.
  const workflow::BusinessCalendar* calendar = nullptr;
  // Each step's calendar (its SLA's, or the definition's); absent for
  // wall time.
  std::map<std::string, const workflow::BusinessCalendar*> step_calendars;

  const v1::WorkflowDefinition& body() const { return published->definition(); }
};

ReportProjection::ReportProjection(AppContext& context, storage::ReportFacts facts)
    : context_(context),
      calendars_(context.calendars()),
      directory_(context.directory()) {
  for (ReportInstanceFact& fact : facts.instances) {
    instances_[fact.instance_id] = std::move(fact);
  }
  for (ReportTaskFact& fact : facts.tasks) tasks_[fact.task_id] = std::move(fact);
}

ReportProjection::~ReportProjection() = default;

absl::StatusOr<const ReportProjection::Definition*> ReportProjection::DefinitionOf(
    const std::string& key, int32_t version) {
  auto found = definitions_.find({key, version});
  if (found != definitions_.end()) return found->second.get();
  auto definition = std::make_unique<Definition>();
  SIGNOFF_ASSIGN_OR_RETURN(definition->published, context_.Definition(key, version));
  const v1::WorkflowDefinition& body = definition->body();
  // A calendar that is missing counts as wall time rather than stopping
  // the projection: definitions are checked against calendars when
  // published, so only a deleted calendar gets here.
  definition->calendar = calendars_->Find(body.calendar());
  definition->zone = ReportZoneOf(*calendars_, body);
  for (const v1::Step& step : body.steps()) {
    const std::string name = step.has_sla()
                                 ? workflow::CalendarOf(step.sla().due(), body.calendar())
                                 : body.calendar();
    if (const workflow::BusinessCalendar* calendar = calendars_->Find(name)) {
      definition->step_calendars[step.id()] = calendar;
    }
  }
  const Definition* kept = definition.get();
  definitions_[{key, version}] = std::move(definition);
  return kept;
}

CellPlace ReportProjection::InstancePlace(const ReportInstanceFact& fact, absl::Time at,
                                          const Definition& definition) const {
  return CellPlace{fact.definition_key,
                   fact.department,
                   DayNumber(at, definition.zone),
                   {{storage::kReportDimAll, ""}, {storage::kReportDimSubject, fact.subject}}};
}

CellPlace ReportProjection::TaskPlace(const ReportTaskFact& task, absl::Time at,
                                      const Definition& definition) const {
  return CellPlace{task.definition_key,
                   task.department,
                   DayNumber(at, definition.zone),
                   {{storage::kReportDimAll, ""},
                    {storage::kReportDimStep, task.step_id},
                    {storage::kReportDimApprover, task.approver},
                    {storage::kReportDimSubject, task.subject}}};
}

Durations ReportProjection::Between(absl::Time from, absl::Time to, const Definition& definition,
                                    const std::string& step_id) const {
  Durations durations;
  durations.wall = std::max<int64_t>(0, absl::ToInt64Seconds(to - from));
  const workflow::BusinessCalendar* calendar = definition.calendar;
  if (!step_id.empty()) {
    auto found = definition.step_calendars.find(step_id);
    calendar = found == definition.step_calendars.end() ? nullptr : found->second;
  }
  durations.business = calendar == nullptr ? durations.wall
                                            : absl::ToInt64Seconds(calendar->Between(from, to));
  return durations;
}

absl::Status ReportProjection::Apply(const storage::FeedRecord& record) {
  const v1::Event& event = record.event;
  SIGNOFF_ASSIGN_OR_RETURN(const Definition* definition,
                           DefinitionOf(record.definition_key, record.definition_version));
  if (event.body_case() == v1::Event::kInstanceStarted) {
    Started(event, record, *definition);
    return absl::OkStatus();
  }
  auto instance = instances_.find(event.instance_id());
  // Only an instance whose start was never projected lacks facts; its
  // events cannot be placed, so they are left out.
  if (instance == instances_.end()) return absl::OkStatus();
  return ApplyToInstance(event, instance->second, *definition);
}

absl::Status ReportProjection::ApplyToInstance(const v1::Event& event,
                                               ReportInstanceFact& instance,
                                               const Definition& definition) {
  const absl::Time at = EventTime(event);
  changed_instances_.insert(instance.instance_id);
  switch (event.body_case()) {
    case v1::Event::kInstanceResubmitted:
      ++instance.resubmits;
      TakeRating(event.instance_resubmitted().form(), instance, definition);
      break;
    case v1::Event::kInstanceReturned:
      ++instance.returns;
      break;
    case v1::Event::kStepEntered:
      if (event.step_entered().kind() == v1::STEP_END) {
        instance.end_step = event.step_entered().step().step_id();
      }
      break;
    case v1::Event::kTaskCreated:
      TaskCreated(event.task_created().task(), at, instance, definition);
      break;
    case v1::Event::kTaskUpdated:
      TaskUpdated(event.task_updated().task(), at);
      break;
    case v1::Event::kTaskCompleted:
      TaskCompleted(event.task_completed().task(), at, instance, definition);
      break;
    case v1::Event::kTaskCancelled:
      tasks_.erase(event.task_cancelled().task().id());
      removed_tasks_.insert(event.task_cancelled().task().id());
      break;
    case v1::Event::kTaskEscalated:
      ++instance.escalations;
      if (ReportTaskFact* task = Task(event.task_id())) {
        book_.Count(TaskPlace(*task, at, definition), metric::kEscalation, 1);
      }
      break;
    case v1::Event::kSlaBreached:
      SlaBreached(event, definition);
      break;
    case v1::Event::kClockStarted:
    case v1::Event::kClockPaused:
    case v1::Event::kClockResumed:
    case v1::Event::kDeadlineExtended:
    case v1::Event::kClockAdvanced:
      ClockChanged(event, definition);
      break;
    case v1::Event::kInstanceFinished:
      Finished(event, instance, definition);
      break;
    case v1::Event::kAppealFiled:
      Appealed(instance, definition);
      break;
    default:
      break;
  }
  return absl::OkStatus();
}

void ReportProjection::Started(const v1::Event& event, const storage::FeedRecord& record,
                               const Definition& definition) {
  const v1::InstanceStarted& started = event.instance_started();
  ReportInstanceFact& instance = instances_[event.instance_id()];
  instance = ReportInstanceFact{};
  instance.instance_id = event.instance_id();
  instance.definition_key = record.definition_key;
  instance.definition_version = record.definition_version;
  // The applicant's department when the case started: a later move to
  // another department does not carry old cases along.
  if (const v1::User* applicant = directory_->FindUser(started.applicant())) {
    instance.department = applicant->department();
  }
  instance.subject = started.subject();
  instance.started_us = MicrosOf(event.time());
  TakeRating(started.form(), instance, definition);
  changed_instances_.insert(instance.instance_id);
  book_.Count(InstancePlace(instance, EventTime(event), definition), metric::kStarted, 1);
}

void ReportProjection::TakeRating(const google::protobuf::Struct& values,
                                  ReportInstanceFact& instance, const Definition& definition) {
  const std::string& field = definition.body().reports().rating_field();
  if (field.empty()) return;
  auto found = values.fields().find(field);
  if (found == values.fields().end() || !found->second.has_number_value()) return;
  instance.rating = found->second.number_value();
}

void ReportProjection::TaskCreated(const v1::Task& task, absl::Time at,
                                   const ReportInstanceFact& instance,
                                   const Definition& definition) {
  ReportTaskFact& fact = tasks_[task.id()];
  fact = ReportTaskFact{};
  fact.task_id = task.id();
  fact.instance_id = instance.instance_id;
  fact.definition_key = instance.definition_key;
  fact.department = instance.department;
  fact.subject = instance.subject;
  fact.step_id = task.step_id();
  fact.token = task.token();
  fact.approver = ApproverOf(task);
  fact.created_us = absl::ToUnixMicros(at);
  if (IsPending(task)) fact.pending_us = fact.created_us;
  fact.has_sla = task.has_due_at() || task.clock_paused();
  if (task.has_due_at()) fact.due_us = MicrosOf(task.due_at());
  removed_tasks_.erase(task.id());
  Changed(fact);
  book_.Count(TaskPlace(fact, at, definition), metric::kTaskCreated, 1);
}

void ReportProjection::TaskUpdated(const v1::Task& task, absl::Time at) {
  ReportTaskFact* fact = Task(task.id());
  if (fact == nullptr) return;
  fact->approver = ApproverOf(task);
  // Time to decision runs from when the task became someone's to decide,
  // not from when a later approver in a sequence was lined up.
  if (IsPending(task) && fact->pending_us == 0) fact->pending_us = absl::ToUnixMicros(at);
  if (task.has_due_at()) {
    fact->has_sla = true;
    fact->due_us = MicrosOf(task.due_at());
  }
  Changed(*fact);
}

void ReportProjection::TaskCompleted(const v1::Task& task, absl::Time at,
                                     ReportInstanceFact& instance, const Definition& definition) {
  ReportTaskFact* stored = Task(task.id());
  if (stored == nullptr) return;
  const ReportTaskFact fact = *stored;
  tasks_.erase(task.id());
  changed_tasks_.erase(task.id());
  removed_tasks_.insert(task.id());
  const CellPlace place = TaskPlace(fact, at, definition);
  const int64_t since = fact.pending_us != 0 ? fact.pending_us : fact.created_us;
  book_.Measure(place, metric::kDecided, Between(TimeOf(since), at, definition, fact.step_id));
  const std::string action = v1::Action_Name(task.decision());
  book_.Count(place, absl::StrCat(metric::kDecision, action), 1);
  const bool judged = task.decision() == v1::REJECT || task.decision() == v1::RETURN;
  if (judged && !task.reason_code().empty()) {
    CellPlace all = place;
    all.dims.resize(1);
    book_.Count(all, absl::StrCat(metric::kReason, action, ":", task.reason_code()), 1);
  }
  if (task.decision() == v1::REJECT) ++instance.rejections;
  if (fact.step_id == definition.body().reports().resolution_step()) {
    ++instance.resolution_decisions;
  }
  if (task.has_result()) TakeRating(task.result(), instance, definition);
  if (fact.has_sla) {
    book_.Count(place, metric::kSlaTask, 1);
    if (!fact.breached && !task.sla_breached()) book_.Count(place, metric::kSlaMet, 1);
  }
}

void ReportProjection::ClockChanged(const v1::Event& event, const Definition& definition) {
  const absl::Time at = EventTime(event);
  const v1::StepClock* clock = nullptr;
  switch (event.body_case()) {
    case v1::Event::kClockStarted: clock = &event.clock_started().clock(); break;
    case v1::Event::kClockPaused: clock = &event.clock_paused().clock(); break;
    case v1::Event::kClockResumed: clock = &event.clock_resumed().clock(); break;
    case v1::Event::kDeadlineExtended: clock = &event.deadline_extended().clock(); break;
    default: clock = &event.clock_advanced().clock(); break;
  }
  std::vector<ReportTaskFact*> tasks = TasksOf(event.instance_id(), clock->token());
  // A step's pause is counted once, with the first of its open tasks.
  if (event.body_case() == v1::Event::kClockResumed && !tasks.empty() &&
      tasks.front()->paused_us != 0) {
    const int64_t paused = absl::ToInt64Seconds(at - TimeOf(tasks.front()->paused_us));
    book_.Total(TaskPlace(*tasks.front(), at, definition), metric::kPaused, 1,
                std::max<int64_t>(0, paused));
  }
  for (ReportTaskFact* task : tasks) {
    task->has_sla = true;
    task->due_us = clock->has_due_at() ? MicrosOf(clock->due_at()) : 0;
    if (event.body_case() == v1::Event::kClockPaused) task->paused_us = absl::ToUnixMicros(at);
    if (event.body_case() == v1::Event::kClockResumed) task->paused_us = 0;
    Changed(*task);
  }
}

void ReportProjection::SlaBreached(const v1::Event& event, const Definition& definition) {
  std::vector<ReportTaskFact*> tasks =
      TasksOf(event.instance_id(), event.sla_breached().token());
  for (ReportTaskFact* task : tasks) {
    task->breached = true;
    Changed(*task);
  }
  // One breach per deadline, placed with the first of the step's tasks.
  if (!tasks.empty()) {
    book_.Count(TaskPlace(*tasks.front(), EventTime(event), definition), metric::kBreach, 1);
  }
}

void ReportProjection::Finished(const v1::Event& event, ReportInstanceFact& instance,
                                const Definition& definition) {
  instance.finished_us = MicrosOf(event.time());
  instance.finished_status = v1::InstanceStatus_Name(event.instance_finished().status());
  instance.finished_outcome = event.instance_finished().outcome();
  CountFinish(instance, definition, 1);
}

// An appealed instance runs again: its finish leaves the counts until it
// finishes again. Nothing it counts has changed since it finished.
void ReportProjection::Appealed(ReportInstanceFact& instance, const Definition& definition) {
  if (instance.finished_us == 0) return;
  CountFinish(instance, definition, -1);
  instance.finished_us = 0;
  instance.finished_status.clear();
  instance.finished_outcome.clear();
}

void ReportProjection::CountFinish(const ReportInstanceFact& instance,
                                   const Definition& definition, int64_t times) {
  const absl::Time at = TimeOf(instance.finished_us);
  const CellPlace place = InstancePlace(instance, at, definition);
  book_.Measure(place, metric::kFinished, Between(TimeOf(instance.started_us), at, definition, ""),
                times);
  book_.Count(place, absl::StrCat(metric::kOutcome, instance.finished_status), times);
  if (!instance.end_step.empty()) {
    book_.Count(place, absl::StrCat(metric::kEndStep, instance.end_step), times);
  }
  if (!instance.finished_outcome.empty()) {
    book_.Count(place, absl::StrCat(metric::kNamedOutcome, instance.finished_outcome), times);
  }
  if (instance.returns == 0 && instance.rejections == 0) {
    book_.Count(place, metric::kFirstPass, times);
  }
  if (instance.resubmits > 0) book_.Count(place, metric::kResubmits, times * instance.resubmits);
  if (!definition.body().reports().resolution_step().empty() &&
      instance.resolution_decisions > 0) {
    book_.Count(place, metric::kFcrEligible, times);
    if (instance.resolution_decisions == 1 && instance.returns == 0 &&
        instance.escalations == 0) {
      book_.Count(place, metric::kFcr, times);
    }
  }
  if (instance.rating) {
    book_.Total(place, metric::kCsat, times, times * std::llround(*instance.rating * 1000));
  }
}

std::vector<ReportTaskFact*> ReportProjection::TasksOf(const std::string& instance_id,
                                                       const std::string& token) {
  std::vector<ReportTaskFact*> tasks;
  for (auto& [id, task] : tasks_) {
    if (task.instance_id == instance_id && task.token == token) tasks.push_back(&task);
  }
  return tasks;
}

ReportTaskFact* ReportProjection::Task(const std::string& id) {
  auto found = tasks_.find(id);
  return found == tasks_.end() ? nullptr : &found->second;
}

storage::ReportWrites ReportProjection::TakeWrites() {
  storage::ReportWrites writes;
  for (const std::string& id : changed_instances_) writes.instances.push_back(instances_[id]);
  for (const std::string& id : changed_tasks_) {
    if (ReportTaskFact* task = Task(id)) writes.tasks.push_back(*task);
  }
  writes.tasks_removed.assign(removed_tasks_.begin(), removed_tasks_.end());
  writes.cells = book_.Take();
  changed_instances_.clear();
  changed_tasks_.clear();
  removed_tasks_.clear();
  return writes;
}

}  // namespace signoff::app
