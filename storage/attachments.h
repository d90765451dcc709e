#pragma once

// What the store keeps for ATTACHMENT form fields: uploads and their
// chunks, content stored once per SHA-256, and which instance holds which
// file.

#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "absl/time/time.h"
#include "signoff/v1/attachments.pb.h"
#include "signoff/v1/instance.pb.h"

namespace signoff::storage {

struct StoredUpload {
  signoff::v1::Upload upload;
  // Empty until the upload completes.
  std::string sha256;
  // Bytes received so far; the whole size once completed.
  int64_t received_bytes = 0;
  // An instance refers to its content: it no longer expires.
  bool attached = false;
};

struct UploadChunk {
  std::string upload_id;
  int64_t offset = 0;
  std::string data;
};

// The upload's chunks become content named by `sha256` (kept once: when
// that content is stored already, the chunks just go), and the upload now
// expires at `expires_at` unless an instance takes it up.
struct UploadCompletion {
  std::string upload_id;
  std::string sha256;
  absl::Time at;
  absl::Time expires_at;
};

// The file an instance's form holds. Marks its uploader's uploads of that
// content attached.
struct AttachmentLink {
  std::string instance_id;
  signoff::v1::AttachedFile file;
  absl::Time at;
};

// A commit's attachment writes (see Mutation::attachments). A chunk or a
// completion for an upload that is missing or already completed is
// FAILED_PRECONDITION; a chunk with different bytes at an offset already
// written too. A link to content that is not stored (it expired) is
// FAILED_PRECONDITION.
struct AttachmentWrites {
  std::optional<StoredUpload> create;
  std::optional<UploadChunk> chunk;
  std::optional<UploadCompletion> completion;
  // An upload dropped with its chunks (it failed its checks).
  std::optional<std::string> discard;
  std::vector<AttachmentLink> links;
  // Drops the unattached uploads that expired by then, and content nothing
  // refers to any more.
  std::optional<absl::Time> expire_before;

  bool empty() const {
    return !create && !chunk && !completion && !discard && links.empty() && !expire_before;
  }
};

// A range of stored content, and the whole content's size.
struct ContentRange {
  std::string data;
  int64_t size = 0;
};

}  // namespace signoff::storage
