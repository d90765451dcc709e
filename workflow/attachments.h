#pragma once

// ATTACHMENT form values: their shape, the files a form holds, and which
// media types a definition accepts.

#include <cstdint>
#include <string>
#include <vector>

#include "absl/strings/string_view.h"
#include "google/protobuf/struct.pb.h"
#include "signoff/v1/definition.pb.h"
#include "signoff/v1/instance.pb.h"

namespace signoff::workflow {

// A file's name: 1..255 bytes, with no directory part and no control
// characters.
inline constexpr size_t kMaxAttachmentNameBytes = 255;

// 64 lowercase hex digits.
bool IsSha256Hex(absl::string_view text);

// "" when `value` is an attachment object {"sha256", "name", "size",
// "media_type"} (and nothing else); otherwise what is wrong with it.
std::string CheckAttachmentValue(const google::protobuf::Value& value);

// What is wrong with a file name, or "".
std::string CheckAttachmentName(absl::string_view name);

// A media type "type/subtype", lowercase.
bool IsMediaType(absl::string_view text);

// Every file the form's ATTACHMENT fields, and LISTs of them, hold, in
// field order; uploader is left empty. Values of the wrong shape are
// skipped: ValidateForm reports them.
std::vector<signoff::v1::AttachedFile> AttachmentsOf(const signoff::v1::Form& form,
                                                     const google::protobuf::Struct& values);

// Whether the definition's limits accept the media type: any when they
// list none; "image/*" accepts every image type.
bool AcceptsMediaType(const signoff::v1::AttachmentLimits& limits, absl::string_view media_type);

}  // namespace signoff::workflow
