#pragma once

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "server/app/access_control.h"
#include "server/app/app_context.h"
#include "server/app/caller.h"
#include "server/app/command_pipeline.h"
#include "signoff/v1/attachments.pb.h"

namespace signoff::app {

struct AttachmentOptions {
  // The server's cap on one file; definitions may set less.
  int64_t max_bytes = 64 << 20;
  // How long an upload may stay unfinished, or finished but unused.
  absl::Duration upload_lifetime = absl::Hours(24);
  // Every chunk of an upload but the last is this long; a chunk with its
  // request must fit the transports' largest message.
  int64_t chunk_bytes = 256 * 1024;
};

// AttachmentService: chunked uploads for ATTACHMENT form fields, and reads
// of stored files.
//
// Who may do what: any directory user uploads for a definition that has
// ATTACHMENT fields; only an upload's uploader sends its chunks, completes
// it, and reads it before an instance takes it up. After that a file is
// read through the instance holding it, by whoever may open the instance
// (a redacted reader not for a confidential field). Everything else is
// NOT_FOUND, worded as a missing file.
class AttachmentService {
 public:
  AttachmentService(AppContext& context, CommandPipeline& pipeline)
      : context_(context), pipeline_(pipeline), access_(context) {}

  // Set before serving.
  void set_options(const AttachmentOptions& options) { options_ = options; }

  absl::StatusOr<v1::UploadResponse> CreateUpload(const Caller& caller,
                                                  const v1::CreateUploadRequest& request);
  absl::StatusOr<v1::UploadChunkResponse> UploadChunk(const Caller& caller,
                                                      const v1::UploadChunkRequest& request);
  absl::StatusOr<v1::AttachmentResponse> CompleteUpload(const Caller& caller,
                                                        const v1::CompleteUploadRequest& request);
  absl::StatusOr<v1::AttachmentResponse> GetAttachment(const Caller& caller,
                                                       const v1::GetAttachmentRequest& request);
  absl::StatusOr<v1::ReadAttachmentResponse> ReadAttachment(
      const Caller& caller, const v1::ReadAttachmentRequest& request);

 private:
  // The caller's own upload, completed or not; NOT_FOUND for anyone
  // else's, an unknown or an expired one.
  absl::StatusOr<storage::StoredUpload> OwnUpload(const Caller& caller, const std::string& id);
  // The file as the caller may read it, with its uploader.
  absl::StatusOr<v1::AttachedFile> Readable(const Caller& caller, const std::string& sha256,
                                            const std::string& instance_id);
  absl::StatusOr<v1::AttachedFile> OnInstance(const Caller& caller, const std::string& sha256,
                                              const std::string& instance_id);
  // The largest file the definition takes.
  int64_t MaxBytesFor(const v1::WorkflowDefinition& definition) const;
  absl::Status CheckChunk(const storage::StoredUpload& upload,
                          const v1::UploadChunkRequest& request) const;
  // Drops an upload that failed its completion, and says why.
  absl::Status Refuse(const std::string& upload_id, const std::string& why);

  AppContext& context_;
  CommandPipeline& pipeline_;
  AccessControl access_;
  AttachmentOptions options_;
};

}  // namespace signoff::app
