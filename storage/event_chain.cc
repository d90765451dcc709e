#include "storage/event_chain.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/digest.h"
#include "storage/store.h"

namespace signoff::storage {
namespace {

// The bytes the hash covers. Copies the event only when it carries fields
// the hash leaves out; the writer hands over events that do not.
std::string HashedBytes(const signoff::v1::Event& event) {
  if (event.global_seq() == 0 && event.prev_hash().empty() && event.hash().empty()) {
    return DeterministicBytes(event);
  }
  signoff::v1::Event stripped = event;
  stripped.clear_global_seq();
  stripped.clear_prev_hash();
  stripped.clear_hash();
  return DeterministicBytes(stripped);
}

// Length-prefixes each part so that no two different inputs concatenate to
// the same bytes.
void AppendField(std::string* out, absl::string_view field) {
  absl::StrAppend(out, field.size(), ":", field, ";");
}

}  // namespace

std::string ComputeEventHash(const signoff::v1::Event& event) {
  return ComputeEventHash(event, event.prev_hash());
}

std::string ComputeEventHash(const signoff::v1::Event& unchained, const std::string& prev_hash) {
  std::string input;
  AppendField(&input, prev_hash);
  AppendField(&input, unchained.instance_id());
  AppendField(&input, absl::StrCat(unchained.instance_seq()));
  AppendField(&input, HashedBytes(unchained));
  return Sha256Hex(input);
}

bool VerifyEventChain(const std::vector<signoff::v1::Event>& events) {
  std::string prev_hash;
  int64_t expected_seq = 1;
  for (const signoff::v1::Event& event : events) {
    if (event.instance_seq() != expected_seq || event.prev_hash() != prev_hash ||
        event.instance_id() != events.front().instance_id()) {
      return false;
    }
    try {
      if (ComputeEventHash(event) != event.hash()) return false;
    } catch (const std::exception&) {
      return false;
    }
    prev_hash = event.hash();
    ++expected_seq;
  }
  return true;
}

bool VerifyHistory(const History& history) {
  if (static_cast<int64_t>(history.events.size()) != history.event_count) return false;
  const std::string last = history.events.empty() ? "" : history.events.back().hash();
  return last == history.head_hash && VerifyEventChain(history.events);
}

}  // namespace signoff::storage
