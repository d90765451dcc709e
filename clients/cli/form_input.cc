#include "form_input.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "workflow/yaml_mapping.h"

namespace signoff::cli {

namespace v1 = ::signoff::v1;
using google::protobuf::Value;

absl::Status UsageError(const std::string& message) {
  absl::Status status = absl::InvalidArgumentError(message);
  status.SetPayload(kUsageError, absl::Cord("1"));
  return status;
}

absl::StatusOr<std::string> ReadFile(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) return absl::NotFoundError(absl::StrCat("cannot read ", path));
  std::ostringstream text;
  text << in.rdbuf();
  return text.str();
}

absl::Status Annotate(const absl::Status& status, const std::string& prefix) {
  if (status.ok()) return status;
  absl::Status annotated(status.code(), absl::StrCat(prefix, ": ", status.message()));
  status.ForEachPayload([&](absl::string_view url, const absl::Cord& payload) {
    annotated.SetPayload(url, payload);
  });
  return annotated;
}

namespace {

Value Typed(const std::string& text, v1::FieldType type) {
  Value value;
  double number = 0;
  if (type == v1::NUMBER && absl::SimpleAtod(text, &number)) {
    value.set_number_value(number);
  } else if (type == v1::BOOL && (text == "true" || text == "false")) {
    value.set_bool_value(text == "true");
  } else {
    value.set_string_value(text);
  }
  return value;
}

Value ValueFor(const std::string& text, const v1::FormField* field) {
  if (field == nullptr) return Typed(text, v1::STRING);
  if (field->type() != v1::LIST) return Typed(text, field->type());
  Value list;
  auto* items = list.mutable_list_value();
  for (absl::string_view item : absl::StrSplit(text, ',', absl::SkipEmpty())) {
    *items->add_values() = Typed(std::string(item), field->item_type());
  }
  return list;
}

}  // namespace

absl::StatusOr<google::protobuf::Struct> BuildForm(const std::vector<std::string>& pairs,
                                                   const std::string& file,
                                                   const v1::Form& form) {
  google::protobuf::Struct values;
  if (!file.empty()) {
    auto text = ReadFile(file);
    if (!text.ok()) return text.status();
    auto parsed = workflow::ParseFormYaml(*text);
    if (!parsed.ok()) return Annotate(parsed.status(), file);
    values = *parsed;
  }
  for (const auto& pair : pairs) {
    const auto equals = pair.find('=');
    if (equals == std::string::npos || equals == 0) {
      return UsageError(absl::StrCat("--form takes name=value, not '", pair, "'"));
    }
    const std::string name = pair.substr(0, equals);
    const v1::FormField* field = nullptr;
    for (const auto& candidate : form.fields()) {
      if (candidate.name() == name) field = &candidate;
    }
    (*values.mutable_fields())[name] = ValueFor(pair.substr(equals + 1), field);
  }
  return values;
}

}  // namespace signoff::cli
