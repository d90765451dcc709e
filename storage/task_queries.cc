#include <soci/soci.h>

#include <set>
#include <utility>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/codec.h"
#include "storage/queries.h"
#include "storage/sql_query.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

using signoff::v1::Task;

constexpr int kDefaultTaskPageSize = 50;
constexpr char kTaskList[] = "tasks";

// Tasks are listed by (created_us, id); a page token holds the last pair.
std::string EncodePosition(const Task& task) {
  return EncodeTimeIdPosition(workflow::ToUnixMicros(task.created_at()), task.id());
}

// Conditions on tasks, combined with AND; values are bound through the
// query that will run them.
using Conditions = std::vector<std::string>;

// Row values let the index seek straight to the position.
void AddAfter(const TimeIdPosition& after, SqlQuery& query, Conditions& conditions) {
  conditions.push_back(absl::StrCat("(created_us, id) > (", query.Bind(after.time_us), ", ",
                                    query.Bind(after.id), ")"));
}

void AddFieldFilters(const TaskFilter& filter, SqlQuery& query, Conditions& conditions) {
  if (!filter.assignee.empty()) {
    conditions.push_back(absl::StrCat("assignee = ", query.Bind(filter.assignee)));
  }
  if (!filter.role.empty()) {
    conditions.push_back(absl::StrCat("candidate_role = ", query.Bind(filter.role)));
  }
  if (!filter.department.empty()) {
    conditions.push_back(
        absl::StrCat("candidate_department = ", query.Bind(filter.department)));
  }
  if (filter.status != signoff::v1::TASK_STATUS_UNSPECIFIED) {
    conditions.push_back(absl::StrCat("status = ", query.Bind(int64_t{filter.status})));
  }
  if (!filter.instance_id.empty()) {
    conditions.push_back(absl::StrCat("instance_id = ", query.Bind(filter.instance_id)));
  }
  if (filter.due_before) {
    conditions.push_back(absl::StrCat("status = ", query.Bind(int64_t{signoff::v1::PENDING})));
    conditions.push_back(absl::StrCat("due_us IS NOT NULL AND due_us < ",
                                      query.Bind(absl::ToUnixMicros(*filter.due_before))));
  }
}

bool IsInboxQuery(const TaskFilter& filter) {
  return !filter.inbox_user.empty() || !filter.inbox_groups.empty();
}

// The ways a pending task reaches an inbox: assigned to the user, or
// offered unclaimed to one of the user's candidate groups. No task takes
// two of them: an assigned task is no longer offered, and a task is
// offered to one group.
std::vector<Conditions> InboxWays(const TaskFilter& filter, SqlQuery& query) {
  std::vector<Conditions> ways;
  if (!filter.inbox_user.empty()) {
    ways.push_back({absl::StrCat("assignee = ", query.Bind(filter.inbox_user))});
  }
  std::set<std::pair<std::string, std::string>> groups;
  for (const signoff::v1::CandidateGroup& group : filter.inbox_groups) {
    if (!groups.emplace(group.role(), group.department()).second) continue;
    ways.push_back({absl::StrCat("candidate_role = ", query.Bind(group.role())),
                    absl::StrCat("candidate_department = ", query.Bind(group.department())),
                    "assignee = ''"});
  }
  return ways;
}

std::string Ordered(SqlQuery& query, int64_t limit) {
  return absl::StrCat(" ORDER BY created_us, id LIMIT ", query.Bind(limit));
}

// An inbox as one ordered, limited query per way, each walking its own
// index, merged: an OR of the ways would scan every pending task.
void BuildInboxQuery(const TaskFilter& filter, const Conditions& common, int64_t limit,
                     SqlQuery& query) {
  std::vector<std::string> branches;
  for (Conditions way : InboxWays(filter, query)) {
    way.push_back(absl::StrCat("status = ", query.Bind(int64_t{signoff::v1::PENDING})));
    way.insert(way.end(), common.begin(), common.end());
    branches.push_back(absl::StrCat(
        "SELECT * FROM (SELECT body, created_us, id FROM tasks WHERE ",
        absl::StrJoin(way, " AND "), Ordered(query, limit), ") AS way_", branches.size() + 1));
  }
  query.Append(absl::StrCat("SELECT body FROM (", absl::StrJoin(branches, " UNION ALL "),
                            ") AS inbox", Ordered(query, limit)));
}

}  // namespace

absl::StatusOr<Page<Task>> QueryTasks(soci::session& session, const TaskFilter& filter) {
  const int page_size = ClampPageSize(filter.page_size, kDefaultTaskPageSize);
  const int64_t limit = page_size + 1;
  SqlQuery query("");
  Conditions common;
  if (!filter.page_token.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(TimeIdPosition after,
                             DecodeTimeIdPageToken(kTaskList, filter.page_token));
    AddAfter(after, query, common);
  }
  AddFieldFilters(filter, query, common);
  if (filter.readable_by) {
    common.push_back(ReadableCondition(*filter.readable_by, "instance_id", query));
  }
  if (IsInboxQuery(filter)) {
    BuildInboxQuery(filter, common, limit, query);
  } else {
    query.Append("SELECT body FROM tasks");
    for (const std::string& condition : common) query.Where(condition);
    query.Append(Ordered(query, limit));
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<Task> rows, FetchBodyRows<Task>(session, query));
  return MakePage(std::move(rows), page_size, kTaskList, EncodePosition);
}

}  // namespace signoff::storage
