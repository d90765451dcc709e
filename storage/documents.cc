#include "storage/documents.h"

#include "storage/dialect.h"

#include <soci/soci.h>

#include "absl/strings/str_cat.h"
#include "storage/codec.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {

namespace {

// Publishes racing through other replicas each take one number; past this
// many lost races the caller is told to retry.
constexpr int kVersionAttempts = 8;

struct DocumentTable {
  const char* table;
  const char* key_column;
  const char* noun;
};

const DocumentTable& TableOf(DocumentKind kind) {
  static const DocumentTable kDefinitions{"definitions", "key", "definition"};
  static const DocumentTable kCalendars{"calendars", "name", "calendar"};
  return kind == DocumentKind::kCalendar ? kCalendars : kDefinitions;
}

std::string Columns(const DocumentTable& table) {
  return absl::StrCat(table.key_column, ", version, body, published_at, published_by, origin");
}

int32_t LatestVersion(soci::session& session, const DocumentTable& table, const std::string& key) {
  int32_t latest = 0;
  soci::indicator ind = soci::i_null;
  session << absl::StrCat("SELECT MAX(version) FROM ", table.table, " WHERE ", table.key_column,
                          " = :k"),
      soci::use(key), soci::into(latest, ind);
  return ind == soci::i_ok ? latest : 0;
}

DocumentRow MakeRow(const std::string& key, const google::protobuf::Timestamp& published_at,
                    const std::string& published_by, const std::string& origin) {
  DocumentRow row;
  row.key = key;
  // Unset would list the document as published in 1970.
  row.published_us = published_at.seconds() == 0 && published_at.nanos() == 0
                         ? NowMicros()
                         : workflow::ToUnixMicros(published_at);
  row.published_by = published_by;
  row.origin = origin;
  return row;
}

}  // namespace

absl::StatusOr<DocumentRow> QueryDocument(soci::session& session, DocumentKind kind,
                                          const std::string& key, int32_t version) {
  const DocumentTable& table = TableOf(kind);
  const int32_t wanted = version > 0 ? version : LatestVersion(session, table, key);
  DocumentRow row;
  session << absl::StrCat("SELECT ", Columns(table), " FROM ", table.table, " WHERE ",
                          table.key_column, " = :k AND version = :v"),
      soci::use(key), soci::use(wanted), soci::into(row.key), soci::into(row.version),
      soci::into(row.body), soci::into(row.published_us), soci::into(row.published_by),
      soci::into(row.origin);
  if (!session.got_data()) {
    const std::string shown = workflow::ShortForMessage(key);
    return absl::NotFoundError(version > 0
                                   ? absl::StrCat(table.noun, " ", shown, " has no version ",
                                                  version)
                                   : absl::StrCat(table.noun, " ", shown, " is not published"));
  }
  return row;
}

std::vector<DocumentRow> QueryLatestDocuments(soci::session& session, DocumentKind kind) {
  const DocumentTable& table = TableOf(kind);
  DocumentRow row;
  soci::statement statement =
      (session.prepare << absl::StrCat("SELECT d.", table.key_column,
                                       ", d.version, d.body, d.published_at, d.published_by,"
                                       " d.origin FROM ",
                                       table.table, " d JOIN (SELECT ", table.key_column,
                                       " AS k, MAX(version) AS latest FROM ", table.table,
                                       " GROUP BY ", table.key_column, ") m ON d.",
                                       table.key_column, " = m.k AND d.version = m.latest"
                                       " ORDER BY d.",
                                       table.key_column),
       soci::into(row.key), soci::into(row.version), soci::into(row.body),
       soci::into(row.published_us), soci::into(row.published_by), soci::into(row.origin));
  statement.execute();
  std::vector<DocumentRow> rows;
  while (statement.fetch()) rows.push_back(row);
  return rows;
}

int32_t QueryLatestVersionFrom(soci::session& session, DocumentKind kind, const std::string& key,
                               const std::string& origin) {
  const DocumentTable& table = TableOf(kind);
  int32_t latest = 0;
  soci::indicator ind = soci::i_null;
  session << absl::StrCat("SELECT MAX(version) FROM ", table.table, " WHERE ", table.key_column,
                          " = :k AND origin = :o"),
      soci::use(key), soci::use(origin), soci::into(latest, ind);
  return ind == soci::i_ok ? latest : 0;
}

absl::StatusOr<int32_t> InsertDocument(soci::session& session, const Dialect& dialect,
                                       DocumentKind kind, const DocumentRow& row) {
  const DocumentTable& table = TableOf(kind);
  if (row.key.empty()) return absl::InvalidArgumentError(absl::StrCat(table.noun, " has no key"));
  std::string body = row.body;
  dialect.PrepareBodyValue(&body);
  // The primary key (key, version) allocates the number: a publish through
  // another replica that took it first leaves this insert with no row, and
  // the next number is tried.
  for (int attempt = 0; attempt < kVersionAttempts; ++attempt) {
    const int32_t version = LatestVersion(session, table, row.key) + 1;
    if (row.version != 0 && row.version != version) {
      return absl::AbortedError(absl::StrCat(table.noun, " ", row.key, " version ", row.version,
                                             " was published concurrently"));
    }
    soci::statement insert =
        (session.prepare << absl::StrCat("INSERT INTO ", table.table, " (", Columns(table),
                                         ") VALUES (:k, :v, ", dialect.BodyParameter(":b"),
                                         ", :t, :p, :o) ON CONFLICT DO NOTHING"),
         soci::use(row.key), soci::use(version), soci::use(body), soci::use(row.published_us),
         soci::use(row.published_by), soci::use(row.origin));
    insert.execute(true);
    if (insert.get_affected_rows() > 0) return version;
  }
  return absl::AbortedError(absl::StrCat("could not number a new version of ", table.noun, " ",
                                         row.key, ": other publishes kept taking the next one"));
}

absl::StatusOr<DocumentRow> RowOf(const signoff::v1::PublishedDefinition& published) {
  const std::string& key =
      published.key().empty() ? published.definition().key() : published.key();
  if (!published.definition().key().empty() && published.definition().key() != key) {
    return absl::InvalidArgumentError(absl::StrCat(
        "definition key ", published.definition().key(), " is published as ", key));
  }
  DocumentRow row = MakeRow(key, published.published_at(), published.published_by(),
                            published.origin());
  row.version = published.version();
  SIGNOFF_ASSIGN_OR_RETURN(row.body, EncodeBody(published.definition()));
  return row;
}

absl::StatusOr<DocumentRow> RowOf(const signoff::v1::PublishedCalendar& published) {
  DocumentRow row = MakeRow(published.calendar().name(), published.published_at(),
                            published.published_by(), published.origin());
  row.version = published.version();
  SIGNOFF_ASSIGN_OR_RETURN(row.body, EncodeBody(published.calendar()));
  return row;
}

absl::Status Decode(const DocumentRow& row, signoff::v1::PublishedDefinition* published) {
  published->set_key(row.key);
  published->set_version(row.version);
  *published->mutable_published_at() = workflow::FromUnixMicros(row.published_us);
  published->set_published_by(row.published_by);
  published->set_origin(row.origin);
  return DecodeBody(row.body, published->mutable_definition());
}

absl::Status Decode(const DocumentRow& row, signoff::v1::PublishedCalendar* published) {
  published->set_name(row.key);
  published->set_version(row.version);
  *published->mutable_published_at() = workflow::FromUnixMicros(row.published_us);
  published->set_published_by(row.published_by);
  published->set_origin(row.origin);
  return DecodeBody(row.body, published->mutable_calendar());
}

}  // namespace signoff::storage
