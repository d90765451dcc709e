#include "storage/report_store.h"

#include <soci/soci.h>

#include <algorithm>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "storage/sql_query.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

// Instance ids bound into one IN list at most.
constexpr size_t kIdsPerQuery = 400;

constexpr char kInstanceColumns[] =
    "SELECT instance_id, definition_key, definition_version, department, subject, started_us,"
    " return_count, rejection_count, resubmit_count, escalation_count, resolution_decisions,"
    " rating, end_step, finished_us, finished_status, finished_outcome FROM report_instances";

constexpr char kTaskColumns[] =
    "SELECT task_id, instance_id, definition_key, department, subject, step_id, token,"
    " approver, created_us, pending_us, due_us, has_sla, breached, paused_us"
    " FROM report_tasks";

struct InstanceFactRow {
  ReportInstanceFact fact;
  double rating = 0;
  soci::indicator rating_ind = soci::i_null;

  template <typename Exchange>
  void Bind(Exchange&& exchange) {
    exchange(soci::into(fact.instance_id));
    exchange(soci::into(fact.definition_key));
    exchange(soci::into(fact.definition_version));
    exchange(soci::into(fact.department));
    exchange(soci::into(fact.subject));
    exchange(soci::into(fact.started_us));
    exchange(soci::into(fact.returns));
    exchange(soci::into(fact.rejections));
    exchange(soci::into(fact.resubmits));
    exchange(soci::into(fact.escalations));
    exchange(soci::into(fact.resolution_decisions));
    exchange(soci::into(rating, rating_ind));
    exchange(soci::into(fact.end_step));
    exchange(soci::into(fact.finished_us));
    exchange(soci::into(fact.finished_status));
    exchange(soci::into(fact.finished_outcome));
  }

  ReportInstanceFact Fact() const {
    ReportInstanceFact copy = fact;
    if (rating_ind == soci::i_ok) copy.rating = rating;
    return copy;
  }
};

struct TaskFactRow {
  ReportTaskFact fact;
  int has_sla = 0, breached = 0;

  template <typename Exchange>
  void Bind(Exchange&& exchange) {
    exchange(soci::into(fact.task_id));
    exchange(soci::into(fact.instance_id));
    exchange(soci::into(fact.definition_key));
    exchange(soci::into(fact.department));
    exchange(soci::into(fact.subject));
    exchange(soci::into(fact.step_id));
    exchange(soci::into(fact.token));
    exchange(soci::into(fact.approver));
    exchange(soci::into(fact.created_us));
    exchange(soci::into(fact.pending_us));
    exchange(soci::into(fact.due_us));
    exchange(soci::into(has_sla));
    exchange(soci::into(breached));
    exchange(soci::into(fact.paused_us));
  }

  ReportTaskFact Fact() const {
    ReportTaskFact copy = fact;
    copy.has_sla = has_sla != 0;
    copy.breached = breached != 0;
    return copy;
  }
};

// Runs `query` with a Row's columns bound, collecting each row's Fact().
template <typename Row>
auto FetchRows(soci::session& session, SqlQuery& query)
    -> absl::StatusOr<std::vector<decltype(std::declval<Row>().Fact())>> {
  Row row;
  soci::statement statement = query.PrepareWith(session, [&](soci::statement& st) {
    row.Bind([&](auto&& into) { st.exchange(std::move(into)); });
  });
  statement.execute();
  std::vector<decltype(row.Fact())> facts;
  while (statement.fetch()) facts.push_back(row.Fact());
  return facts;
}

std::string InList(const std::vector<std::string>& ids, size_t begin, size_t end,
                   SqlQuery& query) {
  std::vector<std::string> placeholders;
  for (size_t i = begin; i < end; ++i) placeholders.push_back(query.Bind(ids[i]));
  return absl::StrCat("(", absl::StrJoin(placeholders, ", "), ")");
}

void AddHistogram(const Histogram& from, Histogram& into) {
  for (const auto& [bucket, count] : from) into[bucket] += count;
}

class ReportWriter {
 public:
  explicit ReportWriter(soci::session& session) : session_(session) {}

  absl::Status Apply(const ReportWrites& writes) {
    if (writes.reset) Reset();
    if (writes.advance) SIGNOFF_RETURN_IF_ERROR(Advance(*writes.advance));
    for (const ReportInstanceFact& fact : writes.instances) Upsert(fact);
    for (const ReportTaskFact& fact : writes.tasks) Upsert(fact);
    for (const std::string& id : writes.tasks_removed) {
      session_ << "DELETE FROM report_tasks WHERE task_id = :t", soci::use(id);
    }
    for (const ReportCell& cell : writes.cells) SIGNOFF_RETURN_IF_ERROR(Add(cell));
    return absl::OkStatus();
  }

 private:
  void Reset() {
    session_ << "DELETE FROM report_cells";
    session_ << "DELETE FROM report_tasks";
    session_ << "DELETE FROM report_instances";
    session_ << "UPDATE report_position SET after_global_seq = 0 WHERE id = 1";
  }

  // First, so that the position row's lock orders rival projectors on a
  // shared server before either touches a cell.
  absl::Status Advance(const ReportAdvance& advance) {
    soci::statement move =
        (session_.prepare << "UPDATE report_position SET after_global_seq = :to"
                             " WHERE id = 1 AND after_global_seq = :from",
         soci::use(advance.to), soci::use(advance.from));
    move.execute(true);
    if (move.get_affected_rows() != 1) {
      return absl::AbortedError("the report projection moved on since it was read");
    }
    return absl::OkStatus();
  }

  void Upsert(const ReportInstanceFact& fact) {
    soci::indicator rating_ind = fact.rating ? soci::i_ok : soci::i_null;
    const double rating = fact.rating.value_or(0);
    session_ << "INSERT INTO report_instances (instance_id, definition_key, definition_version,"
                " department, subject, started_us, return_count, rejection_count, resubmit_count,"
                " escalation_count,"
                " resolution_decisions, rating, end_step, finished_us, finished_status,"
                " finished_outcome)"
                " VALUES (:i, :k, :v, :d, :s, :t, :r, :j, :u, :e, :x, :g, :n, :fu, :fs, :fo)"
                " ON CONFLICT (instance_id) DO UPDATE SET return_count = excluded.return_count,"
                " rejection_count = excluded.rejection_count,"
                " resubmit_count = excluded.resubmit_count,"
                " escalation_count = excluded.escalation_count,"
                " resolution_decisions = excluded.resolution_decisions,"
                " rating = excluded.rating, end_step = excluded.end_step,"
                " finished_us = excluded.finished_us, finished_status = excluded.finished_status,"
                " finished_outcome = excluded.finished_outcome",
        soci::use(fact.instance_id), soci::use(fact.definition_key),
        soci::use(fact.definition_version), soci::use(fact.department), soci::use(fact.subject),
        soci::use(fact.started_us), soci::use(fact.returns), soci::use(fact.rejections),
        soci::use(fact.resubmits), soci::use(fact.escalations),
        soci::use(fact.resolution_decisions), soci::use(rating, rating_ind),
        soci::use(fact.end_step), soci::use(fact.finished_us), soci::use(fact.finished_status),
        soci::use(fact.finished_outcome);
  }

  void Upsert(const ReportTaskFact& fact) {
    const int has_sla = fact.has_sla ? 1 : 0;
    const int breached = fact.breached ? 1 : 0;
    session_ << "INSERT INTO report_tasks (task_id, instance_id, definition_key, department,"
                " subject, step_id, token, approver, created_us, pending_us, due_us, has_sla,"
                " breached, paused_us)"
                " VALUES (:i, :n, :k, :d, :s, :p, :t, :a, :c, :q, :u, :h, :b, :z)"
                " ON CONFLICT (task_id) DO UPDATE SET approver = excluded.approver,"
                " pending_us = excluded.pending_us, due_us = excluded.due_us,"
                " has_sla = excluded.has_sla, breached = excluded.breached,"
                " paused_us = excluded.paused_us",
        soci::use(fact.task_id), soci::use(fact.instance_id), soci::use(fact.definition_key),
        soci::use(fact.department), soci::use(fact.subject), soci::use(fact.step_id),
        soci::use(fact.token), soci::use(fact.approver), soci::use(fact.created_us),
        soci::use(fact.pending_us), soci::use(fact.due_us), soci::use(has_sla),
        soci::use(breached), soci::use(fact.paused_us);
  }

  // Histograms are merged here rather than in SQL, so the cell is read
  // first; the position's row lock keeps rival writers out meanwhile.
  absl::Status Add(const ReportCell& delta) {
    const ReportCellKey& key = delta.key;
    int64_t count = 0, total_wall = 0, total_business = 0;
    std::string wall_text, business_text;
    session_ << "SELECT count, total_wall, total_business, wall_hist, business_hist"
                " FROM report_cells WHERE definition_key = :k AND dim = :d AND day = :y"
                " AND metric = :m AND department = :p AND dim_value = :v",
        soci::use(key.definition_key), soci::use(key.dim), soci::use(key.day),
        soci::use(key.metric), soci::use(key.department), soci::use(key.dim_value),
        soci::into(count), soci::into(total_wall), soci::into(total_business),
        soci::into(wall_text), soci::into(business_text);
    const bool exists = session_.got_data();
    SIGNOFF_ASSIGN_OR_RETURN(Histogram wall, DecodeHistogram(wall_text));
    SIGNOFF_ASSIGN_OR_RETURN(Histogram business, DecodeHistogram(business_text));
    AddHistogram(delta.wall_hist, wall);
    AddHistogram(delta.business_hist, business);
    count += delta.count;
    total_wall += delta.total_wall;
    total_business += delta.total_business;
    wall_text = EncodeHistogram(wall);
    business_text = EncodeHistogram(business);
    if (exists) {
      session_ << "UPDATE report_cells SET count = :c, total_wall = :w, total_business = :b,"
                  " wall_hist = :wh, business_hist = :bh"
                  " WHERE definition_key = :k AND dim = :d AND day = :y AND metric = :m"
                  " AND department = :p AND dim_value = :v",
          soci::use(count), soci::use(total_wall), soci::use(total_business),
          soci::use(wall_text), soci::use(business_text), soci::use(key.definition_key),
          soci::use(key.dim), soci::use(key.day), soci::use(key.metric),
          soci::use(key.department), soci::use(key.dim_value);
    } else {
      session_ << "INSERT INTO report_cells (definition_key, dim, day, metric, department,"
                  " dim_value, count, total_wall, total_business, wall_hist, business_hist)"
                  " VALUES (:k, :d, :y, :m, :p, :v, :c, :w, :b, :wh, :bh)",
          soci::use(key.definition_key), soci::use(key.dim), soci::use(key.day),
          soci::use(key.metric), soci::use(key.department), soci::use(key.dim_value),
          soci::use(count), soci::use(total_wall), soci::use(total_business),
          soci::use(wall_text), soci::use(business_text);
    }
    return absl::OkStatus();
  }

  soci::session& session_;
};

}  // namespace

std::string EncodeHistogram(const Histogram& histogram) {
  std::vector<std::string> parts;
  for (const auto& [bucket, count] : histogram) {
    if (count != 0) parts.push_back(absl::StrCat(bucket, ":", count));
  }
  return absl::StrJoin(parts, ",");
}

absl::StatusOr<Histogram> DecodeHistogram(const std::string& text) {
  Histogram histogram;
  if (text.empty()) return histogram;
  for (absl::string_view part : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    std::pair<absl::string_view, absl::string_view> pair = absl::StrSplit(part, ':');
    int32_t bucket = 0;
    int64_t count = 0;
    if (!absl::SimpleAtoi(pair.first, &bucket) || !absl::SimpleAtoi(pair.second, &count)) {
      return absl::DataLossError(absl::StrCat("a stored report histogram is damaged: ", text));
    }
    histogram[bucket] += count;
  }
  return histogram;
}

absl::StatusOr<int64_t> QueryReportPosition(soci::session& session) {
  int64_t position = 0;
  session << "SELECT after_global_seq FROM report_position WHERE id = 1", soci::into(position);
  if (!session.got_data()) return absl::InternalError("report_position has no row");
  return position;
}

absl::StatusOr<ReportFacts> QueryReportFacts(soci::session& session,
                                             const std::vector<std::string>& instance_ids) {
  ReportFacts facts;
  for (size_t begin = 0; begin < instance_ids.size(); begin += kIdsPerQuery) {
    const size_t end = std::min(instance_ids.size(), begin + kIdsPerQuery);
    {
      SqlQuery query(kInstanceColumns);
      query.Where(absl::StrCat("instance_id IN ", InList(instance_ids, begin, end, query)));
      SIGNOFF_ASSIGN_OR_RETURN(std::vector<ReportInstanceFact> found,
                               (FetchRows<InstanceFactRow>(session, query)));
      for (auto& fact : found) facts.instances.push_back(std::move(fact));
    }
    SqlQuery query(kTaskColumns);
    query.Where(absl::StrCat("instance_id IN ", InList(instance_ids, begin, end, query)));
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<ReportTaskFact> tasks,
                             (FetchRows<TaskFactRow>(session, query)));
    for (auto& fact : tasks) facts.tasks.push_back(std::move(fact));
  }
  return facts;
}

namespace {

// The select list of QueryReportCells: the cells as stored, or added up
// over the departments and/or days the query sums.
std::string CellColumns(const Dialect& dialect, const ReportCellQuery& query) {
  const bool summed = query.sum_departments || query.sum_days;
  std::string histograms = "'', ''";
  if (query.with_histograms) {
    histograms = summed ? absl::StrCat(dialect.JoinTextAggregate("wall_hist"), ", ",
                                       dialect.JoinTextAggregate("business_hist"))
                        : "wall_hist, business_hist";
  }
  if (!summed) {
    return absl::StrCat(
        "SELECT metric, dim_value, department, day, count, total_wall, total_business, ",
        histograms, " FROM report_cells");
  }
  return absl::StrCat(
      "SELECT metric, dim_value, ", query.sum_departments ? "''" : "department", ", ",
      query.sum_days ? "MIN(day)" : "day",
      ", CAST(SUM(count) AS BIGINT), CAST(SUM(total_wall) AS BIGINT),"
      " CAST(SUM(total_business) AS BIGINT), ",
      histograms, " FROM report_cells");
}

std::string CellGrouping(const ReportCellQuery& query) {
  if (!query.sum_departments && !query.sum_days) return "";
  return absl::StrCat(" GROUP BY metric, dim_value", query.sum_departments ? "" : ", department",
                      query.sum_days ? "" : ", day");
}

}  // namespace

absl::StatusOr<std::vector<ReportCell>> QueryReportCells(soci::session& session,
                                                         const Dialect& dialect,
                                                         const ReportCellQuery& query) {
  SqlQuery sql(CellColumns(dialect, query));
  sql.Where(absl::StrCat("definition_key = ", sql.Bind(query.definition_key)));
  sql.Where(absl::StrCat("dim = ", sql.Bind(query.dim)));
  sql.Where(absl::StrCat("day >= ", sql.Bind(int64_t{query.day_from}), " AND day <= ",
                         sql.Bind(int64_t{query.day_to})));
  // Compared as a prefix, not as a range: PostgreSQL may order text by a
  // locale's collation, in which no character is sure to sort last.
  std::vector<std::string> prefixes;
  for (const std::string& prefix : query.metric_prefixes) {
    prefixes.push_back(absl::StrCat("substr(metric, 1, ",
                                    sql.Bind(static_cast<int64_t>(prefix.size())),
                                    ") = ", sql.Bind(prefix)));
  }
  if (!prefixes.empty()) sql.Where(absl::StrJoin(prefixes, " OR "));
  if (query.departments) {
    if (query.departments->empty()) return std::vector<ReportCell>();
    sql.Where(absl::StrCat("department IN ",
                           InList(*query.departments, 0, query.departments->size(), sql)));
  }
  sql.Append(CellGrouping(query));
  ReportCell cell;
  cell.key.definition_key = query.definition_key;
  cell.key.dim = query.dim;
  std::string wall_text, business_text;
  soci::statement read = sql.Prepare(
      session, soci::into(cell.key.metric), soci::into(cell.key.dim_value),
      soci::into(cell.key.department), soci::into(cell.key.day), soci::into(cell.count),
      soci::into(cell.total_wall), soci::into(cell.total_business), soci::into(wall_text),
      soci::into(business_text));
  read.execute();
  std::vector<ReportCell> cells;
  while (read.fetch()) {
    ReportCell& kept = cells.emplace_back();
    kept.key = cell.key;
    kept.count = cell.count;
    kept.total_wall = cell.total_wall;
    kept.total_business = cell.total_business;
    SIGNOFF_ASSIGN_OR_RETURN(kept.wall_hist, DecodeHistogram(wall_text));
    SIGNOFF_ASSIGN_OR_RETURN(kept.business_hist, DecodeHistogram(business_text));
  }
  return cells;
}

absl::StatusOr<std::vector<ReportTaskFact>> QueryOpenReportTasks(
    soci::session& session, const std::string& definition_key) {
  SqlQuery query(kTaskColumns);
  query.Where(absl::StrCat("definition_key = ", query.Bind(definition_key)));
  query.Append(" ORDER BY task_id");
  return FetchRows<TaskFactRow>(session, query);
}

absl::Status ApplyReportWrites(soci::session& session, const ReportWrites& writes) {
  return ReportWriter(session).Apply(writes);
}

}  // namespace signoff::storage
