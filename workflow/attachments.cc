#include "workflow/attachments.h"

#include <cmath>

#include "absl/strings/ascii.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "re2/re2.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;
using google::protobuf::Value;

namespace {

// Exact bytes for a double: sizes up to 2^53 survive the JSON mapping.
constexpr double kMaxExactSize = 9007199254740992.0;

const Value* Member(const google::protobuf::Struct& object, const char* name) {
  auto it = object.fields().find(name);
  return it == object.fields().end() ? nullptr : &it->second;
}

bool IsWholeSize(const Value& value) {
  if (value.kind_case() != Value::kNumberValue) return false;
  const double size = value.number_value();
  return std::isfinite(size) && size >= 0 && size <= kMaxExactSize && std::floor(size) == size;
}

void AddIfAttachment(const std::string& field, const Value& value,
                     std::vector<v1::AttachedFile>& files) {
  if (!CheckAttachmentValue(value).empty()) return;
  const auto& object = value.struct_value();
  v1::AttachedFile file;
  file.set_field(field);
  file.set_sha256(Member(object, "sha256")->string_value());
  file.set_name(Member(object, "name")->string_value());
  file.set_size(static_cast<int64_t>(Member(object, "size")->number_value()));
  file.set_media_type(Member(object, "media_type")->string_value());
  files.push_back(std::move(file));
}

}  // namespace

bool IsSha256Hex(absl::string_view text) {
  static const RE2 kHex("[0-9a-f]{64}");
  return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), kHex);
}

bool IsMediaType(absl::string_view text) {
  static const RE2 kMediaType(R"([a-z0-9][a-z0-9!#$&^_.+-]{0,126}/[a-z0-9][a-z0-9!#$&^_.+-]{0,126})");
  return RE2::FullMatch(re2::StringPiece(text.data(), text.size()), kMediaType);
}

std::string CheckAttachmentName(absl::string_view name) {
  if (name.empty()) return "needs a file name";
  if (name.size() > kMaxAttachmentNameBytes) {
    return absl::StrCat("a file name must be at most ", kMaxAttachmentNameBytes, " bytes");
  }
  if (name == "." || name == "..") return "a file name must not be . or ..";
  for (char c : name) {
    if (c == '/' || c == '\\') return "a file name must not name a directory";
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) {
      return "a file name must not hold control characters";
    }
  }
  return "";
}

std::string CheckAttachmentValue(const Value& value) {
  if (value.kind_case() != Value::kStructValue) {
    return "must be an attachment {sha256, name, size, media_type}";
  }
  const auto& object = value.struct_value();
  for (const auto& [key, member] : object.fields()) {
    if (key != "sha256" && key != "name" && key != "size" && key != "media_type") {
      return absl::StrCat("has '", key, "', which is not part of an attachment");
    }
  }
  const Value* sha256 = Member(object, "sha256");
  if (sha256 == nullptr || sha256->kind_case() != Value::kStringValue ||
      !IsSha256Hex(sha256->string_value())) {
    return "needs sha256: 64 lowercase hex digits";
  }
  const Value* name = Member(object, "name");
  if (name == nullptr || name->kind_case() != Value::kStringValue) return "needs a file name";
  std::string problem = CheckAttachmentName(name->string_value());
  if (!problem.empty()) return problem;
  const Value* size = Member(object, "size");
  if (size == nullptr || !IsWholeSize(*size)) return "needs size: a whole number of bytes";
  const Value* media_type = Member(object, "media_type");
  if (media_type == nullptr || media_type->kind_case() != Value::kStringValue ||
      !IsMediaType(media_type->string_value())) {
    return "needs media_type, such as application/pdf";
  }
  return "";
}

std::vector<v1::AttachedFile> AttachmentsOf(const v1::Form& form,
                                            const google::protobuf::Struct& values) {
  std::vector<v1::AttachedFile> files;
  for (const v1::FormField& field : form.fields()) {
    const bool single = field.type() == v1::ATTACHMENT;
    const bool list = field.type() == v1::LIST && field.item_type() == v1::ATTACHMENT;
    if (!single && !list) continue;
    const Value* value = Member(values, field.name().c_str());
    if (value == nullptr) continue;
    if (single) AddIfAttachment(field.name(), *value, files);
    if (list && value->kind_case() == Value::kListValue) {
      for (const Value& item : value->list_value().values()) {
        AddIfAttachment(field.name(), item, files);
      }
    }
  }
  return files;
}

bool AcceptsMediaType(const v1::AttachmentLimits& limits, absl::string_view media_type) {
  if (limits.media_types().empty()) return true;
  for (const std::string& accepted : limits.media_types()) {
    if (accepted == media_type) return true;
    if (absl::EndsWith(accepted, "/*") &&
        absl::StartsWith(media_type, accepted.substr(0, accepted.size() - 1))) {
      return true;
    }
  }
  return false;
}

}  // namespace signoff::workflow
