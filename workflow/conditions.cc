#include "workflow/conditions.h"

#include "google/protobuf/util/message_differencer.h"
#include "workflow/form.h"

namespace signoff::workflow {

namespace v1 = ::signoff::v1;
using google::protobuf::Struct;
using google::protobuf::Value;

namespace {

bool SameValue(const Value& a, const Value& b) {
  auto na = AsNumber(a);
  auto nb = AsNumber(b);
  if (na && nb && (a.kind_case() == Value::kNumberValue ||
                   b.kind_case() == Value::kNumberValue)) {
    return *na == *nb;
  }
  return google::protobuf::util::MessageDifferencer::Equals(a, b);
}

// -1, 0, 1, or nullopt when the two cannot be ordered.
std::optional<int> Order(const Value& a, const Value& b) {
  auto na = AsNumber(a);
  auto nb = AsNumber(b);
  if (na && nb) return *na < *nb ? -1 : (*na > *nb ? 1 : 0);
  if (a.kind_case() == Value::kStringValue && b.kind_case() == Value::kStringValue) {
    int c = a.string_value().compare(b.string_value());
    return c < 0 ? -1 : (c > 0 ? 1 : 0);
  }
  return std::nullopt;
}

bool ListHas(const Value& list, const Value& item) {
  if (list.kind_case() != Value::kListValue) return false;
  for (const auto& entry : list.list_value().values()) {
    if (SameValue(entry, item)) return true;
  }
  return false;
}

bool Compare(const v1::Condition& condition, const Value* field) {
  const Value& expected = condition.value();
  if (condition.op() == v1::IS_SET) return field != nullptr && !IsEmptyValue(*field);
  if (field == nullptr || IsEmptyValue(*field)) {
    return condition.op() == v1::NE || condition.op() == v1::NOT_IN;
  }
  switch (condition.op()) {
    case v1::EQ:
      return SameValue(*field, expected);
    case v1::NE:
      return !SameValue(*field, expected);
    case v1::IN:
      return ListHas(expected, *field);
    case v1::NOT_IN:
      return !ListHas(expected, *field);
    case v1::CONTAINS:
      return ListHas(*field, expected);
    default:
      break;
  }
  auto order = Order(*field, expected);
  if (!order) return false;
  switch (condition.op()) {
    case v1::GT:
      return *order > 0;
    case v1::GE:
      return *order >= 0;
    case v1::LT:
      return *order < 0;
    case v1::LE:
      return *order <= 0;
    default:
      return false;
  }
}

}  // namespace

bool Evaluate(const v1::Condition& condition, const Struct& form) {
  if (condition.all_size() > 0) {
    for (const auto& part : condition.all()) {
      if (!Evaluate(part, form)) return false;
    }
    return true;
  }
  if (condition.any_size() > 0) {
    for (const auto& part : condition.any()) {
      if (Evaluate(part, form)) return true;
    }
    return false;
  }
  if (condition.has_not_()) return !Evaluate(condition.not_(), form);
  auto it = form.fields().find(condition.field());
  return Compare(condition, it == form.fields().end() ? nullptr : &it->second);
}

}  // namespace signoff::workflow
