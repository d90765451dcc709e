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

// FNV-1a over the bytes, then a splitmix64 finalizer so that ids that
// differ in one character still spread over the whole range. Spelled out
// rather than taken from a library so that it never changes under us.
uint64_t StableHash(const std::string& text) {
  uint64_t hash = 0xcbf29ce484222325ULL;
  for (unsigned char c : text) {
    hash ^= c;
    hash *= 0x100000001b3ULL;
  }
  hash ^= hash >> 30;
  hash *= 0xbf58476d1ce4e5b9ULL;
  hash ^= hash >> 27;
  hash *= 0x94d049bb133111ebULL;
  hash ^= hash >> 31;
  return hash;
}

}  // namespace

double SampleDraw(const std::string& seed, const std::string& instance_id) {
  const uint64_t hash = StableHash(seed + '\x1f' + instance_id);
  // The top 53 bits fill a double's mantissa exactly.
  return static_cast<double>(hash >> 11) / static_cast<double>(1ULL << 53);
}

std::vector<const v1::Sample*> SamplesIn(const v1::Condition& condition) {
  std::vector<const v1::Sample*> samples;
  if (condition.has_sample()) samples.push_back(&condition.sample());
  for (const auto& part : condition.all()) {
    for (const auto* sample : SamplesIn(part)) samples.push_back(sample);
  }
  for (const auto& part : condition.any()) {
    for (const auto* sample : SamplesIn(part)) samples.push_back(sample);
  }
  if (condition.has_not_()) {
    for (const auto* sample : SamplesIn(condition.not_())) samples.push_back(sample);
  }
  return samples;
}

bool Evaluate(const v1::Condition& condition, const Struct& form,
              const std::string& instance_id) {
  if (condition.all_size() > 0) {
    for (const auto& part : condition.all()) {
      if (!Evaluate(part, form, instance_id)) return false;
    }
    return true;
  }
  if (condition.any_size() > 0) {
    for (const auto& part : condition.any()) {
      if (Evaluate(part, form, instance_id)) return true;
    }
    return false;
  }
  if (condition.has_not_()) return !Evaluate(condition.not_(), form, instance_id);
  if (condition.has_sample()) {
    return !instance_id.empty() &&
           SampleDraw(condition.sample().seed(), instance_id) < condition.sample().rate();
  }
  auto it = form.fields().find(condition.field());
  return Compare(condition, it == form.fields().end() ? nullptr : &it->second);
}

}  // namespace signoff::workflow
