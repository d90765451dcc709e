#include "storage/binary_bodies_migration.h"

#include <soci/soci.h>

#include <cstdint>
#include <functional>
#include <stdexcept>
#include <string>

#include "absl/status/statusor.h"
#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "signoff/v1/calendar.pb.h"
#include "signoff/v1/directory.pb.h"
#include "signoff/v1/instance.pb.h"
#include "storage/codec.h"
#include "storage/instance_access_migration.h"

namespace signoff::storage {
namespace {

constexpr char kBinaryBodiesName[] = "0006_binary_bodies";
// Rows converted per read, so that a large database is never held whole.
constexpr int kRowsPerRead = 1000;

using Convert = std::function<absl::StatusOr<std::string>(const std::string& old_body)>;

template <typename Message>
absl::StatusOr<std::string> Reencode(const std::string& json) {
  Message message;
  absl::Status parsed = FromJson(json, &message);
  if (!parsed.ok()) return parsed;
  return EncodeBody(message);
}

// Events keep their place in the chain in columns; the body holds the rest,
// as new events are written.
absl::StatusOr<std::string> ReencodeEvent(const std::string& json) {
  signoff::v1::Event event;
  absl::Status parsed = FromJson(json, &event);
  if (!parsed.ok()) return parsed;
  event.clear_instance_id();
  event.clear_instance_seq();
  event.clear_global_seq();
  event.clear_prev_hash();
  event.clear_hash();
  return EncodeBody(event);
}

absl::StatusOr<std::string> DecodeBase64(const std::string& text) {
  std::string bytes;
  if (!absl::Base64Unescape(text, &bytes)) {
    return absl::DataLossError("a stored reply is not base64");
  }
  return bytes;
}

// Walks `table` by rowid, writing convert(from) into `to` for every row.
void ConvertColumn(soci::session& session, const std::string& table, const std::string& from,
                   const std::string& to, const Convert& convert) {
  int64_t after = 0;
  while (true) {
    std::vector<int64_t> rowids(kRowsPerRead);
    std::vector<std::string> bodies(kRowsPerRead);
    session << absl::StrCat("SELECT rowid, ", from, " FROM ", table,
                            " WHERE rowid > :after ORDER BY rowid LIMIT ", kRowsPerRead),
        soci::use(after), soci::into(rowids), soci::into(bodies);
    if (rowids.empty()) return;
    std::string converted;
    int64_t rowid = 0;
    soci::statement update =
        (session.prepare << absl::StrCat("UPDATE ", table, " SET ", to,
                                         " = CAST(:b AS BLOB) WHERE rowid = :r"),
         soci::use(converted), soci::use(rowid));
    for (size_t i = 0; i < rowids.size(); ++i) {
      absl::StatusOr<std::string> body = convert(bodies[i]);
      if (!body.ok()) {
        throw std::runtime_error(absl::StrCat("cannot convert ", table, " row ", rowids[i], ": ",
                                              body.status().message()));
      }
      converted = std::move(*body);
      rowid = rowids[i];
      update.execute(true);
    }
    after = rowids.back();
  }
}

}  // namespace

void ConvertJsonBodiesToBinary(soci::session& session) {
  ConvertColumn(session, "instances", "state", "state_pb",
                Reencode<signoff::v1::InstanceState>);
  ConvertColumn(session, "tasks", "body", "body_pb", Reencode<signoff::v1::Task>);
  ConvertColumn(session, "events", "body", "body_pb", ReencodeEvent);
  ConvertColumn(session, "definitions", "body", "body_pb",
                Reencode<signoff::v1::WorkflowDefinition>);
  ConvertColumn(session, "calendars", "body", "body_pb", Reencode<signoff::v1::Calendar>);
  ConvertColumn(session, "users", "body", "body_pb", Reencode<signoff::v1::User>);
  ConvertColumn(session, "departments", "body", "body_pb", Reencode<signoff::v1::Department>);
  ConvertColumn(session, "idempotency", "reply", "reply_pb", DecodeBase64);
}

const std::vector<Migration>& SqliteMigrationsWithSteps() {
  static const auto* const kMigrations = [] {
    auto* migrations = new std::vector<Migration>(WithInstanceAccessStep(SqliteMigrations()));
    for (Migration& migration : *migrations) {
      if (std::string(migration.name) == kBinaryBodiesName) {
        migration.rewrite_rows = &ConvertJsonBodiesToBinary;
      }
    }
    return migrations;
  }();
  return *kMigrations;
}

}  // namespace signoff::storage
