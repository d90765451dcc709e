#pragma once

#include <soci/soci.h>

#include <cstdint>
#include <deque>
#include <string>
#include <utility>
#include <variant>
#include <vector>

#include "absl/status/statusor.h"
#include "absl/strings/str_cat.h"
#include "storage/codec.h"
#include "storage/store.h"
#include "workflow/status_macros.h"

namespace signoff::storage {

// A SELECT whose WHERE clause depends on which filters are set. Values are
// bound, never spliced into the SQL text.
//
//   SqlQuery query("SELECT body FROM tasks");
//   query.Where(absl::StrCat("assignee = ", query.Bind(user)));
//   query.Append(" ORDER BY id");
//   soci::statement st = query.Prepare(session, soci::into(body));
class SqlQuery {
 public:
  using Value = std::variant<std::string, int64_t>;

  explicit SqlQuery(std::string select) : sql_(std::move(select)) {}

  // Records a value and returns its placeholder. Values are bound by
  // name, so conditions may be added in any order.
  std::string Bind(Value value) {
    std::string name = absl::StrCat("p", values_.size() + 1);
    values_.push_back(Binding{name, std::move(value)});
    return ":" + name;
  }

  // Adds a condition; conditions combine with AND.
  void Where(const std::string& condition) {
    absl::StrAppend(&sql_, has_where_ ? " AND " : " WHERE ", "(", condition, ")");
    has_where_ = true;
  }

  void Append(const std::string& text) { sql_ += text; }

  const std::string& sql() const { return sql_; }

  // The query's values must outlive the returned statement.
  template <typename... Intos>
  soci::statement Prepare(soci::session& session, Intos&&... intos) {
    return PrepareWith(session, [&](soci::statement& statement) {
      (statement.exchange(std::forward<Intos>(intos)), ...);
    });
  }

  // As Prepare, with the columns bound by `bind_intos`.
  template <typename BindIntos>
  soci::statement PrepareWith(soci::session& session, BindIntos&& bind_intos) {
    soci::statement statement(session);
    bind_intos(statement);
    for (Binding& binding : values_) {
      std::visit([&](auto& bound) { statement.exchange(soci::use(bound, binding.name)); },
                 binding.value);
    }
    statement.alloc();
    statement.prepare(sql_);
    statement.define_and_bind();
    return statement;
  }

 private:
  struct Binding {
    std::string name;
    Value value;
  };

  std::string sql_;
  bool has_where_ = false;
  // A deque keeps bound values at stable addresses.
  std::deque<Binding> values_;
};

// Runs a query whose only column is a Message's body.
template <typename Message>
absl::StatusOr<std::vector<Message>> FetchBodyRows(soci::session& session, SqlQuery& query) {
  std::string body;
  soci::statement statement = query.Prepare(session, soci::into(body));
  statement.execute();
  std::vector<Message> rows;
  while (statement.fetch()) {
    Message message;
    SIGNOFF_RETURN_IF_ERROR(DecodeBody(body, &message));
    rows.push_back(std::move(message));
  }
  return rows;
}

// Turns page_size + 1 fetched rows into a page: the extra row only says
// that there is a next page, whose token is the last kept row's position.
template <typename T, typename PositionFn>
Page<T> MakePage(std::vector<T> rows, int page_size, absl::string_view list,
                 PositionFn position_of) {
  Page<T> page;
  if (rows.size() > static_cast<size_t>(page_size)) {
    rows.resize(page_size);
    page.next_page_token = EncodePageToken(list, position_of(rows.back()));
  }
  page.items = std::move(rows);
  return page;
}

}  // namespace signoff::storage
