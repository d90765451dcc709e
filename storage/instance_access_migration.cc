#include "storage/instance_access_migration.h"

#include <soci/soci.h>

#include <cstdint>
#include <stdexcept>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "signoff/v1/instance.pb.h"
#include "storage/queries.h"
#include "workflow/access.h"

namespace signoff::storage {
namespace {

constexpr char kInstanceAccessSuffix[] = "_instance_access";
// Events read per query, so that a large database is never held whole.
constexpr int kEventsPerRead = 1000;

// One statement, compiled once and run for every grant.
class GrantInserter {
 public:
  explicit GrantInserter(soci::session& session)
      : insert_((session.prepare << "INSERT INTO instance_access (instance_id, principal, kind)"
                                    " VALUES (:i, :p, :k) ON CONFLICT DO NOTHING",
                 soci::use(instance_id_), soci::use(principal_), soci::use(kind_))) {}

  void GrantFrom(const signoff::v1::Event& event) {
    for (const auto& grant : workflow::AccessGrantsOf(event)) {
      instance_id_ = event.instance_id();
      principal_ = grant.principal;
      kind_ = static_cast<int>(grant.kind);
      insert_.execute(true);
    }
  }

 private:
  std::string instance_id_;
  std::string principal_;
  int kind_ = 0;
  soci::statement insert_;
};

}  // namespace

void GrantAccessFromStoredEvents(soci::session& session) {
  GrantInserter inserter(session);
  int64_t after = 0;
  while (true) {
    absl::StatusOr<std::vector<signoff::v1::Event>> events =
        QueryEventsSince(session, after, kEventsPerRead);
    if (!events.ok()) {
      throw std::runtime_error(absl::StrCat("cannot read the events after ", after, ": ",
                                            events.status().message()));
    }
    if (events->empty()) return;
    for (const auto& event : *events) inserter.GrantFrom(event);
    after = events->back().global_seq();
  }
}

std::vector<Migration> WithInstanceAccessStep(std::vector<Migration> migrations) {
  for (Migration& migration : migrations) {
    if (absl::EndsWith(migration.name, kInstanceAccessSuffix)) {
      migration.rewrite_rows = &GrantAccessFromStoredEvents;
    }
  }
  return migrations;
}

}  // namespace signoff::storage
