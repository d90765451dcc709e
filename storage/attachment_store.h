#pragma once

// The SQL behind the store's attachment reads and writes
// (storage/attachments.h).

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/attachments.h"
#include "storage/dialect.h"

namespace soci {
class session;
}

namespace signoff::storage {

absl::StatusOr<StoredUpload> QueryUpload(soci::session& session, const std::string& id);
absl::StatusOr<std::vector<UploadChunk>> QueryUploadChunks(soci::session& session,
                                                           const Dialect& dialect,
                                                           const std::string& upload_id);
absl::StatusOr<StoredUpload> QueryCompletedUpload(soci::session& session,
                                                  const std::string& uploader,
                                                  const std::string& sha256);
absl::StatusOr<std::vector<signoff::v1::AttachedFile>> QueryInstanceAttachments(
    soci::session& session, const std::string& instance_id);
absl::StatusOr<ContentRange> QueryContent(soci::session& session, const Dialect& dialect,
                                          const std::string& sha256, int64_t offset,
                                          int64_t limit);

// Applies a mutation's attachment writes inside the writer's transaction;
// database errors are thrown.
absl::Status ApplyAttachmentWrites(soci::session& session, const Dialect& dialect,
                                   const AttachmentWrites& writes);

}  // namespace signoff::storage
