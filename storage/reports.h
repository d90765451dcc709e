#pragma once

// What the store keeps for the KPI reports: projections of the committed
// events that signoffd's report projector maintains, and the position in
// the event feed up to which they are complete.
//
// - Facts: one row per instance, and one per task still open, holding
//   what later events need to be counted (the applicant's department, the
//   instance's returns so far, when a task became pending, ...).
// - Cells: additive counters per (definition, metric, grouping dimension,
//   its value, department, day), with duration histograms. A report sums
//   the cells of its period; it never reads events.

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <tuple>
#include <vector>

namespace signoff::storage {

// Counts per histogram bucket (see server/app/report_histogram.h for the
// buckets' bounds).
using Histogram = std::map<int32_t, int64_t>;

// The dimension a cell is grouped by besides its department and day.
inline constexpr char kReportDimAll[] = "all";
inline constexpr char kReportDimStep[] = "step";
inline constexpr char kReportDimApprover[] = "approver";
inline constexpr char kReportDimSubject[] = "subject";
// Appended to a dimension for its month rollup: the same cells added up
// per calendar month, keyed by the month's first day. A quarter's report
// by step, approver or subject reads three of these per group instead of
// some ninety days, which is what keeps it fast at a million instances.
inline constexpr char kReportMonthSuffix[] = "@month";
// The same for dekads (the 1st-10th, 11th-20th and 21st-last of each
// month), keyed by each one's first day: they serve periods that start or
// end within a month.
inline constexpr char kReportDekadSuffix[] = "@dekad";
// Appended to a dimension (step, approver and subject only), or to its
// rollups', for the same cells added up over every department, kept
// under a dimension of its own so that reading it skips the per-department
// rows; its department is "*", which no department id is.
inline constexpr char kReportEveryDepartmentSuffix[] = "@all";
inline constexpr char kReportEveryDepartment[] = "*";

struct ReportCellKey {
  std::string definition_key;
  // What is counted, e.g. "started", "decided", "reason:REJECT:DOCS".
  std::string metric;
  std::string dim;
  // Empty for kReportDimAll.
  std::string dim_value;
  std::string department;
  // Days since 1970-01-01 in the definition's reporting time zone.
  int32_t day = 0;

  bool operator<(const ReportCellKey& other) const {
    return std::tie(definition_key, metric, dim, dim_value, department, day) <
           std::tie(other.definition_key, other.metric, other.dim, other.dim_value,
                    other.department, other.day);
  }
};

// A cell, or a change to one: every field adds.
struct ReportCell {
  ReportCellKey key;
  int64_t count = 0;
  // Seconds, for metrics that measure durations.
  int64_t total_wall = 0;
  int64_t total_business = 0;
  Histogram wall_hist;
  Histogram business_hist;
};

struct ReportInstanceFact {
  std::string instance_id;
  std::string definition_key;
  int32_t definition_version = 0;
  std::string department;
  std::string subject;
  int64_t started_us = 0;
  int32_t returns = 0;
  int32_t rejections = 0;
  int32_t resubmits = 0;
  int32_t escalations = 0;
  // Decisions taken at the definition's resolution step.
  int32_t resolution_decisions = 0;
  // The rating field's last value, when it had one.
  std::optional<double> rating;
  // The last END step entered.
  std::string end_step;
  // How it finished, while it stays finished: cleared by an appeal, whose
  // instance then counts as finished only when it finishes again.
  int64_t finished_us = 0;
  std::string finished_status;
  std::string finished_outcome;
};

// A task not yet decided or cancelled.
struct ReportTaskFact {
  std::string task_id;
  std::string instance_id;
  std::string definition_key;
  std::string department;
  std::string subject;
  std::string step_id;
  std::string token;
  // The assignee, or "role@department" while a candidate group holds it.
  std::string approver;
  int64_t created_us = 0;
  // When it became someone's to decide; 0 while it waits its turn.
  int64_t pending_us = 0;
  // The SLA deadline; 0 without one (or while the clock is paused).
  int64_t due_us = 0;
  // The step has an SLA, whatever its clock does now.
  bool has_sla = false;
  bool breached = false;
  // When its step's clock was paused; 0 while running.
  int64_t paused_us = 0;
};

// The facts of some instances, and every open task of theirs.
struct ReportFacts {
  std::vector<ReportInstanceFact> instances;
  std::vector<ReportTaskFact> tasks;
};

// Moves the projection's position from `from` to `to`; ABORTED, with
// nothing written, when it is no longer at `from` (another replica's
// projector moved it first).
struct ReportAdvance {
  int64_t from = 0;
  int64_t to = 0;
};

// A commit's report writes (see Mutation::reports).
struct ReportWrites {
  // Empties every report table and puts the position back to 0, before
  // anything else here: how a rebuild starts.
  bool reset = false;
  std::optional<ReportAdvance> advance;
  std::vector<ReportInstanceFact> instances;
  std::vector<ReportTaskFact> tasks;
  std::vector<std::string> tasks_removed;
  // Added to the stored cells.
  std::vector<ReportCell> cells;

  bool empty() const {
    return !reset && !advance && instances.empty() && tasks.empty() && tasks_removed.empty() &&
           cells.empty();
  }
};

// The cells of one definition and dimension over days [day_from, day_to].
struct ReportCellQuery {
  std::string definition_key;
  std::string dim;
  int32_t day_from = 0;
  int32_t day_to = 0;
  // Only metrics starting with one of these; every metric when empty.
  std::vector<std::string> metric_prefixes;
  // Only cells of these departments; every department when unset.
  std::optional<std::vector<std::string>> departments;
  // Cells differing only in their department (or day) come back added up
  // into one, with an empty department (or the earliest day). The
  // database adds them, so a report over many departments and days reads
  // one row per metric and group.
  bool sum_departments = false;
  bool sum_days = false;
  // Histograms come back empty unless asked for: reading and adding them
  // up costs more than all the rest.
  bool with_histograms = true;
};

}  // namespace signoff::storage
