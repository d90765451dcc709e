#include "form_input.h"

#include <fstream>
#include <sstream>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_split.h"
#include "absl/time/time.h"
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

absl::StatusOr<google::protobuf::Struct> ReadValuesFile(const std::string& path,
                                                       const std::string& what) {
  auto text = ReadFile(path);
  if (!text.ok()) return text.status();
  auto parsed = workflow::ParseFormYaml(*text, what);
  if (!parsed.ok()) return Annotate(parsed.status(), path);
  return *parsed;
}

absl::StatusOr<Reference> ParseReference(const std::string& text, const std::string& example) {
  Reference reference;
  const auto at = text.find('@');
  reference.name = text.substr(0, at);
  if (at != std::string::npos &&
      (!absl::SimpleAtoi(text.substr(at + 1), &reference.version) || reference.version <= 0)) {
    return UsageError(absl::StrCat("a version after @ must be a positive number, e.g. ", example));
  }
  return reference;
}

absl::StatusOr<v1::TimeSpan> ParseSpan(const std::string& option, const std::string& text) {
  auto bad = [&] {
    return UsageError(absl::StrCat(option, ": '", text,
                                   "' is not a duration such as 2d, 4h, 30m or 1d4h"));
  };
  v1::TimeSpan span;
  std::string seen;
  size_t at = 0;
  while (at < text.size()) {
    const size_t unit = text.find_first_not_of("0123456789", at);
    uint32_t amount = 0;
    if (unit == at || unit == std::string::npos ||
        !absl::SimpleAtoi(text.substr(at, unit - at), &amount) ||
        seen.find(text[unit]) != std::string::npos) {
      return bad();
    }
    switch (text[unit]) {
      case 'd': span.set_days(amount); break;
      case 'h': span.set_hours(amount); break;
      case 'm': span.set_minutes(amount); break;
      case 's': span.set_seconds(amount); break;
      default: return bad();
    }
    seen += text[unit];
    at = unit + 1;
  }
  if (at == 0) return bad();
  if (span.days() == 0 && span.hours() == 0 && span.minutes() == 0 && span.seconds() == 0) {
    return UsageError(absl::StrCat(option, ": '", text, "' must be longer than zero"));
  }
  return span;
}

absl::StatusOr<google::protobuf::Timestamp> ParseTimestamp(const std::string& option,
                                                          const std::string& text) {
  absl::Time time;
  std::string error;
  if (!absl::ParseTime(absl::RFC3339_full, text, &time, &error)) {
    return UsageError(absl::StrCat(option, ": '", text,
                                   "' is not an RFC 3339 time such as 2026-03-02T15:00:00+08:00"));
  }
  google::protobuf::Timestamp stamp;
  stamp.set_seconds(absl::ToUnixSeconds(time));
  return stamp;
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
    auto parsed = ReadValuesFile(file, "the form");
    if (!parsed.ok()) return parsed.status();
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
