#include <soci/soci.h>

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
struct TaskPosition {
  int64_t created_us = 0;
  std::string id;
};

std::string EncodePosition(const Task& task) {
  return absl::StrCat(workflow::ToUnixMicros(task.created_at()), ":", task.id());
}

absl::StatusOr<TaskPosition> DecodePosition(const std::string& token) {
  SIGNOFF_ASSIGN_OR_RETURN(std::string position, DecodePageToken(kTaskList, token));
  const size_t colon = position.find(':');
  TaskPosition decoded;
  if (colon == std::string::npos ||
      !absl::SimpleAtoi(position.substr(0, colon), &decoded.created_us)) {
    return absl::InvalidArgumentError("page_token is not a token from a previous tasks page");
  }
  decoded.id = position.substr(colon + 1);
  return decoded;
}

void WhereAfter(const TaskPosition& after, SqlQuery& query) {
  const std::string created_gt = query.Bind(after.created_us);
  const std::string created_eq = query.Bind(after.created_us);
  const std::string id = query.Bind(after.id);
  query.Where(absl::StrCat("created_us > ", created_gt, " OR (created_us = ", created_eq,
                           " AND id > ", id, ")"));
}

// Pending tasks assigned to the user, or offered unclaimed to one of the
// user's candidate groups.
void WhereInInbox(const TaskFilter& filter, SqlQuery& query) {
  std::vector<std::string> alternatives;
  if (!filter.inbox_user.empty()) {
    alternatives.push_back(absl::StrCat("assignee = ", query.Bind(filter.inbox_user)));
  }
  for (const signoff::v1::CandidateGroup& group : filter.inbox_groups) {
    alternatives.push_back(absl::StrCat(
        "assignee = '' AND candidate_role = ", query.Bind(group.role()),
        " AND candidate_department = ", query.Bind(group.department())));
  }
  query.Where(absl::StrCat("status = ", query.Bind(int64_t{signoff::v1::PENDING})));
  query.Where(absl::StrCat("(", absl::StrJoin(alternatives, ") OR ("), ")"));
}

void WhereMatchesFields(const TaskFilter& filter, SqlQuery& query) {
  if (!filter.assignee.empty()) {
    query.Where(absl::StrCat("assignee = ", query.Bind(filter.assignee)));
  }
  if (!filter.role.empty()) {
    query.Where(absl::StrCat("candidate_role = ", query.Bind(filter.role)));
  }
  if (!filter.department.empty()) {
    query.Where(absl::StrCat("candidate_department = ", query.Bind(filter.department)));
  }
  if (filter.status != signoff::v1::TASK_STATUS_UNSPECIFIED) {
    query.Where(absl::StrCat("status = ", query.Bind(int64_t{filter.status})));
  }
  if (!filter.instance_id.empty()) {
    query.Where(absl::StrCat("instance_id = ", query.Bind(filter.instance_id)));
  }
  if (filter.due_before) {
    query.Where(absl::StrCat("status = ", query.Bind(int64_t{signoff::v1::PENDING})));
    query.Where(absl::StrCat("due_us IS NOT NULL AND due_us < ",
                             query.Bind(absl::ToUnixMicros(*filter.due_before))));
  }
}

bool IsInboxQuery(const TaskFilter& filter) {
  return !filter.inbox_user.empty() || !filter.inbox_groups.empty();
}

}  // namespace

absl::StatusOr<Page<Task>> QueryTasks(soci::session& session, const TaskFilter& filter) {
  const int page_size = ClampPageSize(filter.page_size, kDefaultTaskPageSize);
  SqlQuery query("SELECT body FROM tasks");
  if (!filter.page_token.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(TaskPosition after, DecodePosition(filter.page_token));
    WhereAfter(after, query);
  }
  if (IsInboxQuery(filter)) WhereInInbox(filter, query);
  WhereMatchesFields(filter, query);
  query.Append(absl::StrCat(" ORDER BY created_us, id LIMIT ",
                            query.Bind(int64_t{page_size + 1})));
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<Task> rows, FetchBodyRows<Task>(session, query));
  return MakePage(std::move(rows), page_size, kTaskList, EncodePosition);
}

}  // namespace signoff::storage
