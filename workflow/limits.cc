#include "workflow/limits.h"

#include <string>
#include <vector>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/descriptor.h"
#include "workflow/errors.h"

namespace signoff::workflow {

namespace {

using google::protobuf::FieldDescriptor;
using google::protobuf::Message;

bool IsTextField(const std::string& name) {
  return name == "comment" || name == "reason" || name == "description" ||
         name == "message" || absl::EndsWith(name, "_comment") ||
         absl::EndsWith(name, "_reason");
}

bool IsIdField(const std::string& name) {
  return name == "id" || name == "key" || absl::EndsWith(name, "_id") ||
         absl::EndsWith(name, "_key") || name == "page_token";
}

size_t StringLimit(const FieldDescriptor& field) {
  const std::string& full = field.full_name();
  if (full == "signoff.v1.DefinitionSource.yaml") return kMaxDefinitionBytes;
  if (full == "signoff.v1.PublishCalendarRequest.yaml") return kMaxCalendarBytes;
  if (full == "signoff.v1.CreateWebhookRequest.url") return kMaxUrlBytes;
  if (full == "signoff.v1.UploadChunkRequest.data") return kMaxChunkBytes;
  if (IsIdField(field.name())) return kMaxIdBytes;
  if (IsTextField(field.name())) return kMaxTextBytes;
  return kMaxShortTextBytes;
}

int ListLimit(const FieldDescriptor& field) {
  const std::string& full = field.full_name();
  if (full == "signoff.v1.UpsertUsersRequest.users" ||
      full == "signoff.v1.UpsertDepartmentsRequest.departments") {
    return kMaxDirectoryItems;
  }
  return kMaxListItems;
}

class LimitChecker {
 public:
  void Check(const Message& message, const std::string& path) {
    const std::string& type = message.GetDescriptor()->full_name();
    if (type == "google.protobuf.Struct") {
      CheckWhole(message, path, kMaxStructBytes, /*exhausts=*/false);
      return;
    }
    if (type == "signoff.v1.WorkflowDefinition") {
      CheckWhole(message, path, kMaxDefinitionBytes, /*exhausts=*/true);
      return;
    }
    if (type == "signoff.v1.Calendar") {
      CheckWhole(message, path, kMaxCalendarBytes, /*exhausts=*/true);
      return;
    }
    std::vector<const FieldDescriptor*> fields;
    message.GetReflection()->ListFields(message, &fields);
    for (const FieldDescriptor* field : fields) CheckField(message, *field, path);
  }

  absl::Status Result() const {
    if (!too_large_.ok()) return too_large_;
    if (violations_.empty()) return absl::OkStatus();
    return InvalidArgumentWithViolations(
        absl::StrCat("bad request: ", violations_.front().field, " ",
                     violations_.front().description),
        violations_);
  }

 private:
  void CheckField(const Message& message, const FieldDescriptor& field,
                  const std::string& parent) {
    const std::string path = parent.empty() ? field.name() : absl::StrCat(parent, ".", field.name());
    const auto* reflection = message.GetReflection();
    if (field.is_repeated()) {
      const int size = reflection->FieldSize(message, &field);
      if (size > ListLimit(field)) {
        violations_.push_back(
            {path, absl::StrCat("has ", size, " items; at most ", ListLimit(field))});
        return;
      }
      for (int i = 0; i < size; ++i) {
        const std::string item = absl::StrCat(path, "[", i, "]");
        if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
          CheckString(reflection->GetRepeatedString(message, &field, i), field, item);
        } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
          CheckEnum(reflection->GetRepeatedEnumValue(message, &field, i), field, item);
        } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
          Check(reflection->GetRepeatedMessage(message, &field, i), item);
        }
      }
      return;
    }
    if (field.cpp_type() == FieldDescriptor::CPPTYPE_STRING) {
      CheckString(reflection->GetString(message, &field), field, path);
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_MESSAGE) {
      Check(reflection->GetMessage(message, &field), path);
    } else if (field.cpp_type() == FieldDescriptor::CPPTYPE_ENUM) {
      CheckEnum(reflection->GetEnumValue(message, &field), field, path);
    }
  }

  // Open enums let any number through the parser; signoff knows only its
  // own values.
  void CheckEnum(int value, const FieldDescriptor& field, const std::string& path) {
    if (field.enum_type()->FindValueByNumber(value) != nullptr) return;
    violations_.push_back({path, absl::StrCat(value, " is not a known ",
                                              field.enum_type()->full_name(), " value")});
  }

  void CheckString(const std::string& value, const FieldDescriptor& field,
                   const std::string& path) {
    const size_t limit = StringLimit(field);
    if (value.size() <= limit) return;
    const std::string description = absl::StrCat("is ", value.size(), " bytes; at most ", limit);
    // A whole document in one string is a size limit, not a typo.
    if (limit > kMaxTextBytes) {
      if (too_large_.ok()) too_large_ = absl::ResourceExhaustedError(absl::StrCat(path, " ", description));
      return;
    }
    violations_.push_back({path, description});
  }

  void CheckWhole(const Message& message, const std::string& path, size_t limit,
                  bool exhausts) {
    const size_t size = message.ByteSizeLong();
    if (size <= limit) return;
    const std::string description = absl::StrCat("is ", size, " bytes; at most ", limit);
    if (exhausts) {
      if (too_large_.ok()) {
        too_large_ = absl::ResourceExhaustedError(absl::StrCat(path, " ", description));
      }
      return;
    }
    violations_.push_back({path, description});
  }

  std::vector<FieldViolation> violations_;
  absl::Status too_large_;
};

}  // namespace

absl::Status CheckRequestInput(const Message& request) {
  LimitChecker checker;
  checker.Check(request, "");
  return checker.Result();
}

}  // namespace signoff::workflow
