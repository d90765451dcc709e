#include <soci/soci.h>

#include "absl/strings/str_cat.h"
#include "storage/queries.h"
#include "storage/sql_query.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

using signoff::v1::Department;
using signoff::v1::User;

constexpr int kDefaultUserPageSize = 100;
constexpr char kUserList[] = "users";

void WhereHoldsRole(const UserFilter& filter, SqlQuery& query) {
  std::string grants = absl::StrCat(
      "SELECT user_id FROM user_roles WHERE role = ", query.Bind(filter.role));
  if (!filter.department.empty()) {
    absl::StrAppend(&grants, " AND department = ", query.Bind(filter.department));
  }
  query.Where(absl::StrCat("id IN (", grants, ")"));
}

}  // namespace

absl::StatusOr<signoff::v1::Organisation> QueryDirectory(soci::session& session) {
  signoff::v1::Organisation organisation;
  SqlQuery departments("SELECT body FROM departments ORDER BY id");
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<Department> department_rows,
                   FetchBodyRows<Department>(session, departments));
  for (Department& department : department_rows) {
    *organisation.add_departments() = std::move(department);
  }
  SqlQuery users("SELECT body FROM users ORDER BY id");
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<User> user_rows, FetchBodyRows<User>(session, users));
  for (User& user : user_rows) *organisation.add_users() = std::move(user);
  return organisation;
}

absl::StatusOr<std::vector<signoff::v1::Delegation>> QueryDelegations(soci::session& session) {
  SqlQuery query("SELECT body FROM delegations ORDER BY delegator, starts_us, id");
  return FetchBodyRows<signoff::v1::Delegation>(session, query);
}

absl::StatusOr<User> QueryUser(soci::session& session, const std::string& id) {
  SqlQuery query("SELECT body FROM users");
  query.Where(absl::StrCat("id = ", query.Bind(id)));
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<User> rows, FetchBodyRows<User>(session, query));
  if (rows.empty()) return absl::NotFoundError(absl::StrCat("user ", id, " not found"));
  return std::move(rows.front());
}

absl::StatusOr<Page<User>> QueryUsers(soci::session& session, const UserFilter& filter) {
  const int page_size = ClampPageSize(filter.page_size, kDefaultUserPageSize);
  SqlQuery query("SELECT body FROM users");
  if (!filter.page_token.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(std::string after, DecodePageToken(kUserList, filter.page_token));
    query.Where(absl::StrCat("id > ", query.Bind(after)));
  }
  if (!filter.role.empty()) {
    WhereHoldsRole(filter, query);
  } else if (!filter.department.empty()) {
    query.Where(absl::StrCat("department = ", query.Bind(filter.department)));
  }
  query.Append(absl::StrCat(" ORDER BY id LIMIT ", query.Bind(int64_t{page_size + 1})));
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<User> rows, FetchBodyRows<User>(session, query));
  return MakePage(std::move(rows), page_size, kUserList,
                  [](const User& user) { return user.id(); });
}

}  // namespace signoff::storage
