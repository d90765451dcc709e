#pragma once

// What a form's ATTACHMENT fields bring to the instance that takes it:
// each file checked against the caller's uploads and the definition's
// limits, and recorded with its uploader.

#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "google/protobuf/struct.pb.h"
#include "server/app/caller.h"
#include "signoff/v1/definition.pb.h"
#include "storage/store.h"

namespace signoff::app {

// The files of `form` that `instance_id` does not hold yet. Each must be a
// completed upload of the caller's of the same size, within the
// definition's limits; otherwise INVALID_ARGUMENT with a violation at
// form.<field>, worded alike whether someone else uploaded the content or
// nobody did.
absl::StatusOr<std::vector<storage::AttachmentLink>> NewAttachmentLinks(
    storage::Store& store, const Caller& caller, const v1::WorkflowDefinition& definition,
    const google::protobuf::Struct& form, const std::string& instance_id, absl::Time now);

// Records the files in the event that brought the form: an
// InstanceStarted or InstanceResubmitted among `events`.
void RecordAttachments(const std::vector<storage::AttachmentLink>& links,
                       std::vector<v1::Event>& events);

}  // namespace signoff::app
