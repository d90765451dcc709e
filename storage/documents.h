#pragma once

// Definitions and calendars are one idea: versioned documents. Each is
// published under a key, never changed, and numbered 1, 2, 3, ... per key.
// Their tables differ only in name; everything about versions lives here
// once.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace soci {
class session;
}

namespace signoff::storage {

// One published version as stored: the body is the encoded document.
struct DocumentRow {
  std::string key;
  int32_t version = 0;
  std::string body;
  int64_t published_us = 0;
  std::string published_by;
  std::string origin;
};

// `version` 0 reads the latest. NOT_FOUND when there is none.
absl::StatusOr<DocumentRow> QueryDocument(soci::session& session, DocumentKind kind,
                                          const std::string& key, int32_t version);
// The latest version of every key, by key.
std::vector<DocumentRow> QueryLatestDocuments(soci::session& session, DocumentKind kind);
// The newest version of `key` published from `origin`; 0 when none.
int32_t QueryLatestVersionFrom(soci::session& session, DocumentKind kind, const std::string& key,
                               const std::string& origin);
// Inserts the next version of row.key and returns its number. A row that
// names a version must name exactly the next one, or it is ABORTED: a
// concurrent publish took that number.
absl::StatusOr<int32_t> InsertDocument(soci::session& session, DocumentKind kind,
                                       const DocumentRow& row);

// The typed faces of a row.
absl::StatusOr<DocumentRow> RowOf(const signoff::v1::PublishedDefinition& published);
absl::StatusOr<DocumentRow> RowOf(const signoff::v1::PublishedCalendar& published);
absl::Status Decode(const DocumentRow& row, signoff::v1::PublishedDefinition* published);
absl::Status Decode(const DocumentRow& row, signoff::v1::PublishedCalendar* published);

}  // namespace signoff::storage
