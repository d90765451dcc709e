#include "workflow/form.h"

#include <cmath>
#include <map>
#include <memory>
#include <mutex>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/time/civil_time.h"
#include "google/protobuf/util/message_differencer.h"
#include "re2/re2.h"
#include "workflow/attachments.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;
using google::protobuf::Struct;
using google::protobuf::Value;

namespace {

// Long enough for any realistic free text, short enough to keep a form
// (and everything derived from it) small.
constexpr size_t kMaxStringLength = 20000;
constexpr int kMaxListItems = 1000;

// Compiling a pattern costs far more than matching it, and a definition's
// patterns are few and used on every start; so each is compiled once.
// Bounded, so that many distinct patterns cannot grow it without end.
class CompiledPatterns {
 public:
  // Null when the pattern does not compile.
  std::shared_ptr<const RE2> Get(const std::string& pattern) {
    {
      std::lock_guard<std::mutex> lock(mutex_);
      auto it = compiled_.find(pattern);
      if (it != compiled_.end()) return it->second;
    }
    auto compiled = std::make_shared<const RE2>(pattern, RE2::Quiet);
    if (!compiled->ok()) return nullptr;
    std::lock_guard<std::mutex> lock(mutex_);
    if (compiled_.size() < kMaxPatterns) compiled_.emplace(pattern, compiled);
    return compiled;
  }

 private:
  static constexpr size_t kMaxPatterns = 1024;
  std::mutex mutex_;
  std::map<std::string, std::shared_ptr<const RE2>> compiled_;
};

bool MatchesPattern(const std::string& text, const std::string& pattern) {
  static auto* const patterns = new CompiledPatterns();
  std::shared_ptr<const RE2> compiled = patterns->Get(pattern);
  // A pattern that does not compile is refused when the definition is
  // validated; one that slipped through constrains nothing.
  return compiled == nullptr || RE2::FullMatch(text, *compiled);
}

bool IsMoney(const Value& value) {
  if (value.kind_case() == Value::kNumberValue) {
    double cents = value.number_value() * 100;
    return std::isfinite(cents) && std::fabs(cents - std::round(cents)) < 1e-6;
  }
  if (value.kind_case() != Value::kStringValue) return false;
  static const RE2 kMoney(R"(-?\d{1,15}(\.\d{1,2})?)");
  return RE2::FullMatch(value.string_value(), kMoney);
}

bool IsDate(const Value& value) {
  if (value.kind_case() != Value::kStringValue) return false;
  static const RE2 kDate(R"(\d{4}-\d{2}-\d{2})");
  absl::CivilDay day;
  return RE2::FullMatch(value.string_value(), kDate) &&
         absl::ParseCivilTime(value.string_value(), &day) &&
         absl::FormatCivilTime(day) == value.string_value();
}

std::string CheckBounds(const v1::FormField& field, double measure,
                        const char* what) {
  if (field.has_min() && measure < field.min()) {
    return absl::StrCat(what, " must be at least ", field.min());
  }
  if (field.has_max() && measure > field.max()) {
    return absl::StrCat(what, " must be at most ", field.max());
  }
  return "";
}

// Returns a description of what is wrong with one scalar, or "".
std::string CheckScalar(const v1::FormField& field, v1::FieldType type,
                        const Value& value, const Directory& directory) {
  switch (type) {
    case v1::STRING: {
      if (value.kind_case() != Value::kStringValue) return "must be a string";
      const std::string& text = value.string_value();
      if (text.size() > kMaxStringLength) {
        return absl::StrCat("must be at most ", kMaxStringLength, " characters");
      }
      if (!field.pattern().empty() && !MatchesPattern(text, field.pattern())) {
        return absl::StrCat("must match ", field.pattern());
      }
      return CheckBounds(field, static_cast<double>(text.size()), "length");
    }
    case v1::NUMBER:
      if (value.kind_case() != Value::kNumberValue ||
          !std::isfinite(value.number_value())) {
        return "must be a number";
      }
      return CheckBounds(field, value.number_value(), "value");
    case v1::MONEY:
      if (!IsMoney(value)) return "must be an amount with at most two decimals";
      return CheckBounds(field, *AsNumber(value), "amount");
    case v1::BOOL:
      return value.kind_case() == Value::kBoolValue ? "" : "must be true or false";
    case v1::DATE:
      return IsDate(value) ? "" : "must be a date YYYY-MM-DD";
    case v1::ENUM: {
      if (value.kind_case() != Value::kStringValue) return "must be a string";
      for (const auto& allowed : field.values()) {
        if (allowed == value.string_value()) return "";
      }
      return absl::StrCat("must be one of: ", absl::StrJoin(field.values(), ", "));
    }
    case v1::USER: {
      if (value.kind_case() != Value::kStringValue) return "must be a user id";
      const v1::User* user = directory.FindUser(value.string_value());
      if (user == nullptr || user->disabled()) {
        return absl::StrCat("unknown user '", value.string_value(), "'");
      }
      return "";
    }
    case v1::ATTACHMENT:
      return CheckAttachmentValue(value);
    default:
      return "has a type the definition does not support";
  }
}

std::string CheckField(const v1::FormField& field, const Value& value,
                       const Directory& directory) {
  if (field.type() != v1::LIST) return CheckScalar(field, field.type(), value, directory);
  if (value.kind_case() != Value::kListValue) return "must be a list";
  const auto& items = value.list_value().values();
  if (items.size() > kMaxListItems) {
    return absl::StrCat("must have at most ", kMaxListItems, " items");
  }
  // On a list, min and max bound the item count, not the items.
  v1::FormField item_rules = field;
  item_rules.clear_min();
  item_rules.clear_max();
  for (int i = 0; i < items.size(); ++i) {
    std::string problem = CheckScalar(item_rules, field.item_type(), items[i], directory);
    if (!problem.empty()) return absl::StrCat("item ", i, " ", problem);
  }
  return CheckBounds(field, static_cast<double>(items.size()), "item count");
}

}  // namespace

bool IsEmptyValue(const Value& value) {
  switch (value.kind_case()) {
    case Value::KIND_NOT_SET:
    case Value::kNullValue:
      return true;
    case Value::kStringValue:
      return value.string_value().empty();
    case Value::kListValue:
      return value.list_value().values().empty();
    default:
      return false;
  }
}

absl::Status ValidateForm(const v1::Form& form, const Struct& values,
                          const Directory& directory) {
  return ValidateValues(form.fields(), values, directory, "form", "is not a field of this form");
}

absl::Status ValidateValues(const google::protobuf::RepeatedPtrField<v1::FormField>& fields,
                            const Struct& values, const Directory& directory,
                            const std::string& prefix, const std::string& unknown) {
  std::vector<FieldViolation> violations;
  std::map<std::string, const v1::FormField*> known;
  for (const auto& field : fields) known[field.name()] = &field;
  const std::string path = prefix + ".";
  for (const auto& [name, value] : values.fields()) {
    if (!known.count(name)) violations.push_back({path + name, unknown});
  }
  for (const auto& field : fields) {
    auto it = values.fields().find(field.name());
    const bool missing = it == values.fields().end() || IsEmptyValue(it->second);
    if (missing) {
      if (field.required()) violations.push_back({path + field.name(), "is required"});
      continue;
    }
    std::string problem = CheckField(field, it->second, directory);
    if (!problem.empty()) violations.push_back({path + field.name(), problem});
  }
  if (violations.empty()) return absl::OkStatus();
  return InvalidArgumentWithViolations(
      absl::StrCat("the ", prefix, " has ", violations.size(), " invalid field(s)"),
      violations);
}

std::vector<v1::FormChange> DiffForms(const Struct& before, const Struct& after) {
  std::map<std::string, std::pair<const Value*, const Value*>> fields;
  for (const auto& [name, value] : before.fields()) fields[name].first = &value;
  for (const auto& [name, value] : after.fields()) fields[name].second = &value;
  std::vector<v1::FormChange> changes;
  for (const auto& [name, pair] : fields) {
    const auto& [old_value, new_value] = pair;
    if (old_value != nullptr && new_value != nullptr &&
        google::protobuf::util::MessageDifferencer::Equals(*old_value, *new_value)) {
      continue;
    }
    v1::FormChange change;
    change.set_field(name);
    if (old_value != nullptr) *change.mutable_before() = *old_value;
    if (new_value != nullptr) *change.mutable_after() = *new_value;
    changes.push_back(std::move(change));
  }
  return changes;
}

std::optional<double> AsNumber(const Value& value) {
  if (value.kind_case() == Value::kNumberValue) return value.number_value();
  double parsed = 0;
  if (value.kind_case() == Value::kStringValue &&
      absl::SimpleAtod(value.string_value(), &parsed) && std::isfinite(parsed)) {
    return parsed;
  }
  return std::nullopt;
}

std::string AsText(const Value& value) {
  switch (value.kind_case()) {
    case Value::kStringValue:
      return value.string_value();
    case Value::kBoolValue:
      return value.bool_value() ? "true" : "false";
    case Value::kNumberValue:
      return absl::StrCat(value.number_value());
    default:
      return "";
  }
}

}  // namespace signoff::workflow
