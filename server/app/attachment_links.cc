#include "server/app/attachment_links.h"

#include <set>

#include "absl/strings/str_cat.h"
#include "workflow/attachments.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"

namespace signoff::app {
namespace {

// Why a file cannot be taken, or "".
absl::StatusOr<std::string> ProblemWith(storage::Store& store, const Caller& caller,
                                        const v1::WorkflowDefinition& definition,
                                        v1::AttachedFile& file) {
  absl::StatusOr<storage::StoredUpload> upload =
      store.FindCompletedUpload(caller.user, file.sha256());
  if (absl::IsNotFound(upload.status())) {
    return std::string("names no completed upload of yours; upload the file first");
  }
  SIGNOFF_RETURN_IF_ERROR(upload.status());
  if (upload->upload.size() != file.size()) {
    return absl::StrCat("says ", file.size(), " bytes; the upload has ", upload->upload.size());
  }
  const int64_t max_bytes = definition.attachments().max_bytes();
  if (max_bytes > 0 && file.size() > max_bytes) {
    return absl::StrCat("is ", file.size(), " bytes; this form takes at most ", max_bytes);
  }
  if (!workflow::AcceptsMediaType(definition.attachments(), file.media_type())) {
    return absl::StrCat("has media type ", file.media_type(), ", which this form does not take");
  }
  file.set_uploader(caller.user);
  return std::string();
}

}  // namespace

absl::StatusOr<std::vector<storage::AttachmentLink>> NewAttachmentLinks(
    storage::Store& store, const Caller& caller, const v1::WorkflowDefinition& definition,
    const google::protobuf::Struct& form, const std::string& instance_id, absl::Time now) {
  std::vector<v1::AttachedFile> files = workflow::AttachmentsOf(definition.form(), form);
  if (files.empty()) return std::vector<storage::AttachmentLink>();
  std::set<std::pair<std::string, std::string>> held;
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<v1::AttachedFile> existing,
                           store.ListInstanceAttachments(instance_id));
  std::set<std::string> held_content;
  for (const v1::AttachedFile& file : existing) {
    held.insert({file.field(), file.sha256()});
    held_content.insert(file.sha256());
  }
  std::vector<storage::AttachmentLink> links;
  std::vector<workflow::FieldViolation> violations;
  for (v1::AttachedFile& file : files) {
    if (held.count({file.field(), file.sha256()}) > 0) continue;
    if (held_content.count(file.sha256()) > 0) {
      // Content the instance holds already, moved to another field: its
      // uploader stays the one recorded.
      for (const v1::AttachedFile& before : existing) {
        if (before.sha256() == file.sha256()) file.set_uploader(before.uploader());
      }
    } else {
      SIGNOFF_ASSIGN_OR_RETURN(std::string problem, ProblemWith(store, caller, definition, file));
      if (!problem.empty()) {
        violations.push_back({absl::StrCat("form.", file.field()),
                              absl::StrCat("attachment ", file.name(), " ", problem)});
        continue;
      }
    }
    held.insert({file.field(), file.sha256()});
    links.push_back({instance_id, std::move(file), now});
  }
  if (!violations.empty()) {
    return workflow::InvalidArgumentWithViolations(
        absl::StrCat("the form has ", violations.size(), " attachment(s) that cannot be used"),
        violations);
  }
  return links;
}

void RecordAttachments(const std::vector<storage::AttachmentLink>& links,
                       std::vector<v1::Event>& events) {
  if (links.empty()) return;
  for (v1::Event& event : events) {
    google::protobuf::RepeatedPtrField<v1::AttachedFile>* recorded = nullptr;
    if (event.has_instance_started()) {
      recorded = event.mutable_instance_started()->mutable_attachments();
    } else if (event.has_instance_resubmitted()) {
      recorded = event.mutable_instance_resubmitted()->mutable_attachments();
    }
    if (recorded == nullptr) continue;
    for (const storage::AttachmentLink& link : links) *recorded->Add() = link.file;
    return;
  }
}

}  // namespace signoff::app
