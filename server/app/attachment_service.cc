#include "server/app/attachment_service.h"

#include <openssl/evp.h>

#include <algorithm>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "server/app/new_id.h"
#include "workflow/attachments.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::app {
namespace {

constexpr char kDefaultMediaType[] = "application/octet-stream";
constexpr int64_t kDefaultReadBytes = 256 * 1024;
constexpr int64_t kMostReadBytes = 1024 * 1024;

std::string NewUploadId(absl::Time now) { return NewTimeOrderedId("up", now); }

absl::Status NoSuchUpload(const std::string& id) {
  return absl::NotFoundError(
      absl::StrCat("upload ", workflow::ShortForMessage(id), " not found"));
}

absl::Status NoSuchAttachment(const std::string& sha256) {
  return absl::NotFoundError(
      absl::StrCat("attachment ", workflow::ShortForMessage(sha256), " not found"));
}

absl::Status Invalid(const std::string& field, const std::string& problem) {
  return workflow::InvalidArgumentWithViolations(absl::StrCat(field, " ", problem),
                                                 {{field, problem}});
}

bool HasAttachmentField(const v1::WorkflowDefinition& definition) {
  for (const v1::FormField& field : definition.form().fields()) {
    if (field.type() == v1::ATTACHMENT ||
        (field.type() == v1::LIST && field.item_type() == v1::ATTACHMENT)) {
      return true;
    }
  }
  return false;
}

const v1::FormField* FieldNamed(const v1::WorkflowDefinition& definition,
                                const std::string& name) {
  for (const v1::FormField& field : definition.form().fields()) {
    if (field.name() == name) return &field;
  }
  return nullptr;
}

// The lowercase hex SHA-256 of the chunks, in order.
std::string DigestOf(const std::vector<storage::UploadChunk>& chunks) {
  EVP_MD_CTX* context = EVP_MD_CTX_new();
  EVP_DigestInit_ex(context, EVP_sha256(), nullptr);
  for (const storage::UploadChunk& chunk : chunks) {
    EVP_DigestUpdate(context, chunk.data.data(), chunk.data.size());
  }
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  EVP_DigestFinal_ex(context, digest, &length);
  EVP_MD_CTX_free(context);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

v1::Attachment AttachmentOf(const v1::AttachedFile& file) {
  v1::Attachment attachment;
  attachment.set_sha256(file.sha256());
  attachment.set_name(file.name());
  attachment.set_size(file.size());
  attachment.set_media_type(file.media_type());
  return attachment;
}

v1::AttachedFile FileOf(const storage::StoredUpload& stored) {
  v1::AttachedFile file;
  file.set_sha256(stored.sha256);
  file.set_name(stored.upload.name());
  file.set_size(stored.upload.size());
  file.set_media_type(stored.upload.media_type());
  file.set_uploader(stored.upload.uploader());
  return file;
}

v1::AttachmentResponse ResponseOf(const v1::AttachedFile& file) {
  v1::AttachmentResponse response;
  *response.mutable_attachment() = AttachmentOf(file);
  response.set_uploader(file.uploader());
  return response;
}

}  // namespace

int64_t AttachmentService::MaxBytesFor(const v1::WorkflowDefinition& definition) const {
  const int64_t own = definition.attachments().max_bytes();
  return own > 0 ? std::min(own, options_.max_bytes) : options_.max_bytes;
}

absl::StatusOr<v1::UploadResponse> AttachmentService::CreateUpload(
    const Caller& caller, const v1::CreateUploadRequest& request) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  SIGNOFF_RETURN_IF_ERROR(CheckRequestId(caller, request.request_id()));
  absl::StatusOr<std::shared_ptr<const v1::PublishedDefinition>> definition =
      context_.Definition(request.definition_key(), 0);
  if (!definition.ok() || !HasAttachmentField((*definition)->definition())) {
    return Invalid("definition_key", "names no published definition with ATTACHMENT fields");
  }
  const v1::WorkflowDefinition& rules = (*definition)->definition();
  if (std::string problem = workflow::CheckAttachmentName(request.name()); !problem.empty()) {
    return Invalid("name", problem);
  }
  const std::string media_type =
      request.media_type().empty() ? kDefaultMediaType : request.media_type();
  if (!workflow::IsMediaType(media_type)) {
    return Invalid("media_type", "must be a lowercase media type such as application/pdf");
  }
  if (!workflow::AcceptsMediaType(rules.attachments(), media_type)) {
    return Invalid("media_type", absl::StrCat(media_type, " is not taken by this definition"));
  }
  if (request.size() < 0) return Invalid("size", "must not be negative");
  const int64_t max_bytes = MaxBytesFor(rules);
  if (request.size() > max_bytes) {
    return absl::ResourceExhaustedError(absl::StrCat(
        "the file is ", request.size(), " bytes; this definition takes at most ", max_bytes));
  }
  PlainChange change;
  change.method = "CreateUpload";
  change.request = &request;
  change.request_id = request.request_id();
  change.build = [&](google::protobuf::Message& out) -> absl::StatusOr<storage::Mutation> {
    const absl::Time now = context_.Now();
    storage::StoredUpload stored;
    v1::Upload& upload = stored.upload;
    upload.set_id(NewUploadId(now));
    upload.set_definition_key(rules.key());
    upload.set_name(request.name());
    upload.set_media_type(media_type);
    upload.set_size(request.size());
    upload.set_chunk_size(options_.chunk_bytes);
    upload.set_uploader(caller.user);
    *upload.mutable_expires_at() = workflow::ToTimestamp(now + options_.upload_lifetime);
    *static_cast<v1::UploadResponse&>(out).mutable_upload() = upload;
    storage::Mutation mutation;
    mutation.attachments.create = std::move(stored);
    // Each new upload sweeps away those abandoned before it.
    mutation.attachments.expire_before = now;
    return mutation;
  };
  v1::UploadResponse response;
  SIGNOFF_RETURN_IF_ERROR(pipeline_.Run(caller, change, response));
  return response;
}

absl::StatusOr<storage::StoredUpload> AttachmentService::OwnUpload(const Caller& caller,
                                                                   const std::string& id) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (id.empty()) return Invalid("upload_id", "names the upload; required");
  absl::StatusOr<storage::StoredUpload> stored = context_.store().GetUpload(id);
  if (absl::IsNotFound(stored.status())) return NoSuchUpload(id);
  SIGNOFF_RETURN_IF_ERROR(stored.status());
  const bool expired = !stored->attached &&
                       workflow::FromTimestamp(stored->upload.expires_at()) <= context_.Now();
  if (stored->upload.uploader() != caller.user || expired) return NoSuchUpload(id);
  return stored;
}

absl::Status AttachmentService::CheckChunk(const storage::StoredUpload& upload,
                                           const v1::UploadChunkRequest& request) const {
  const int64_t size = upload.upload.size();
  const int64_t chunk_size = upload.upload.chunk_size();
  if (request.offset() < 0 || request.offset() >= size || request.offset() % chunk_size != 0) {
    return Invalid("offset", absl::StrCat("must be a multiple of ", chunk_size, " below ", size));
  }
  const int64_t expected = std::min(chunk_size, size - request.offset());
  if (static_cast<int64_t>(request.data().size()) != expected) {
    return Invalid("data", absl::StrCat("the chunk at ", request.offset(), " must be ",
                                        expected, " bytes, not ", request.data().size()));
  }
  return absl::OkStatus();
}

absl::StatusOr<v1::UploadChunkResponse> AttachmentService::UploadChunk(
    const Caller& caller, const v1::UploadChunkRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(storage::StoredUpload upload, OwnUpload(caller, request.upload_id()));
  if (!upload.sha256.empty()) {
    return absl::FailedPreconditionError("the upload is completed; it takes no more chunks");
  }
  SIGNOFF_RETURN_IF_ERROR(CheckChunk(upload, request));
  storage::Mutation mutation;
  mutation.attachments.chunk =
      storage::UploadChunk{request.upload_id(), request.offset(), request.data()};
  SIGNOFF_RETURN_IF_ERROR(context_.store().Commit(std::move(mutation)).status());
  SIGNOFF_ASSIGN_OR_RETURN(storage::StoredUpload after,
                           context_.store().GetUpload(request.upload_id()));
  v1::UploadChunkResponse response;
  response.set_received_bytes(after.received_bytes);
  return response;
}

absl::Status AttachmentService::Refuse(const std::string& upload_id, const std::string& why) {
  storage::Mutation mutation;
  mutation.attachments.discard = upload_id;
  SIGNOFF_RETURN_IF_ERROR(context_.store().Commit(std::move(mutation)).status());
  return Invalid("sha256", why);
}

absl::StatusOr<v1::AttachmentResponse> AttachmentService::CompleteUpload(
    const Caller& caller, const v1::CompleteUploadRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(storage::StoredUpload upload, OwnUpload(caller, request.upload_id()));
  if (!workflow::IsSha256Hex(request.sha256())) {
    return Invalid("sha256", "must be 64 lowercase hex digits");
  }
  if (!upload.sha256.empty()) {
    // A repeat of the completion answers as the first did.
    if (upload.sha256 == request.sha256()) return ResponseOf(FileOf(upload));
    return absl::FailedPreconditionError("the upload was completed with another digest");
  }
  if (upload.received_bytes < upload.upload.size()) {
    return absl::FailedPreconditionError(
        absl::StrCat("chunks are missing: ", upload.received_bytes, " of ", upload.upload.size(),
                     " bytes received"));
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<storage::UploadChunk> chunks,
                           context_.store().ListUploadChunks(upload.upload.id()));
  const std::string digest = DigestOf(chunks);
  if (digest != request.sha256()) {
    return Refuse(upload.upload.id(),
                  "differs from the uploaded content's SHA-256; the upload is dropped");
  }
  const absl::Time now = context_.Now();
  storage::Mutation mutation;
  mutation.attachments.completion =
      storage::UploadCompletion{upload.upload.id(), digest, now, now + options_.upload_lifetime};
  SIGNOFF_RETURN_IF_ERROR(context_.store().Commit(std::move(mutation)).status());
  upload.sha256 = digest;
  return ResponseOf(FileOf(upload));
}

absl::StatusOr<v1::AttachedFile> AttachmentService::OnInstance(const Caller& caller,
                                                               const std::string& sha256,
                                                               const std::string& instance_id) {
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Reader reader, context_.ReaderOf(caller));
  SIGNOFF_ASSIGN_OR_RETURN(v1::InstanceState state, access_.LoadInstance(instance_id));
  SIGNOFF_ASSIGN_OR_RETURN(workflow::Readership readership,
                           access_.RequireReadable(reader, state));
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<v1::AttachedFile> files,
                           context_.store().ListInstanceAttachments(instance_id));
  SIGNOFF_ASSIGN_OR_RETURN(auto definition, context_.Definition(state.definition_key(),
                                                                state.definition_version()));
  for (const v1::AttachedFile& file : files) {
    if (file.sha256() != sha256) continue;
    const v1::FormField* field = FieldNamed(definition->definition(), file.field());
    const bool hidden = readership == workflow::Readership::kRedacted &&
                        (field == nullptr || field->confidential());
    if (!hidden) return file;
  }
  return NoSuchAttachment(sha256);
}

absl::StatusOr<v1::AttachedFile> AttachmentService::Readable(const Caller& caller,
                                                             const std::string& sha256,
                                                             const std::string& instance_id) {
  SIGNOFF_RETURN_IF_ERROR(context_.Authenticate(caller));
  if (!workflow::IsSha256Hex(sha256)) return Invalid("sha256", "must be 64 lowercase hex digits");
  if (!instance_id.empty()) return OnInstance(caller, sha256, instance_id);
  absl::StatusOr<storage::StoredUpload> own =
      context_.store().FindCompletedUpload(caller.user, sha256);
  if (absl::IsNotFound(own.status())) return NoSuchAttachment(sha256);
  SIGNOFF_RETURN_IF_ERROR(own.status());
  return FileOf(*own);
}

absl::StatusOr<v1::AttachmentResponse> AttachmentService::GetAttachment(
    const Caller& caller, const v1::GetAttachmentRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(v1::AttachedFile file,
                           Readable(caller, request.sha256(), request.instance_id()));
  return ResponseOf(file);
}

absl::StatusOr<v1::ReadAttachmentResponse> AttachmentService::ReadAttachment(
    const Caller& caller, const v1::ReadAttachmentRequest& request) {
  SIGNOFF_ASSIGN_OR_RETURN(v1::AttachedFile file,
                           Readable(caller, request.sha256(), request.instance_id()));
  if (request.offset() < 0) return Invalid("offset", "must not be negative");
  if (request.limit() < 0 || request.limit() > kMostReadBytes) {
    return Invalid("limit", absl::StrCat("must be 0 to ", kMostReadBytes));
  }
  const int64_t limit = request.limit() == 0 ? kDefaultReadBytes : request.limit();
  absl::StatusOr<storage::ContentRange> range =
      context_.store().ReadContent(file.sha256(), request.offset(), limit);
  if (absl::IsNotFound(range.status())) return NoSuchAttachment(file.sha256());
  SIGNOFF_RETURN_IF_ERROR(range.status());
  v1::ReadAttachmentResponse response;
  response.set_data(std::move(range->data));
  response.set_size(range->size);
  return response;
}

}  // namespace signoff::app
