#include "storage/event_chain.h"

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "absl/strings/str_cat.h"
#include "storage/digest.h"
#include "storage/store.h"

namespace signoff::storage {
namespace {

// The bytes a hash covers: `message` without the fields that place it in
// its chain. Copies the message only when it carries any of them; the
// writer hands over messages that do not.
template <typename Message, typename ClearPosition>
std::string HashedBytes(const Message& message, bool positioned, ClearPosition clear_position) {
  if (!positioned) return DeterministicBytes(message);
  Message stripped = message;
  clear_position(stripped);
  return DeterministicBytes(stripped);
}

std::string HashedBytes(const signoff::v1::Event& event) {
  const bool positioned =
      event.global_seq() != 0 || !event.prev_hash().empty() || !event.hash().empty();
  return HashedBytes(event, positioned, [](signoff::v1::Event& stripped) {
    stripped.clear_global_seq();
    stripped.clear_prev_hash();
    stripped.clear_hash();
  });
}

std::string HashedBytes(const signoff::v1::AdminEvent& event) {
  const bool positioned = event.seq() != 0 || !event.prev_hash().empty() || !event.hash().empty();
  return HashedBytes(event, positioned, [](signoff::v1::AdminEvent& stripped) {
    stripped.clear_seq();
    stripped.clear_prev_hash();
    stripped.clear_hash();
  });
}

}  // namespace

std::string ComputeEventHash(const signoff::v1::Event& event) {
  return ComputeEventHash(event, event.prev_hash());
}

std::string ComputeEventHash(const signoff::v1::Event& unchained, const std::string& prev_hash) {
  return Sha256HexOfFields({prev_hash, unchained.instance_id(),
                            absl::StrCat(unchained.instance_seq()), HashedBytes(unchained)});
}

std::string ComputeAdminEventHash(const signoff::v1::AdminEvent& event) {
  return ComputeAdminEventHash(event, event.seq(), event.prev_hash());
}

std::string ComputeAdminEventHash(const signoff::v1::AdminEvent& unchained, int64_t seq,
                                  const std::string& prev_hash) {
  return Sha256HexOfFields({prev_hash, absl::StrCat(seq), HashedBytes(unchained)});
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

bool VerifyAdminTrailPage(const AdminTrailPage& page) {
  if (!page.link_hash) return false;
  std::string prev_hash = *page.link_hash;
  int64_t seq = page.after_seq;
  for (const signoff::v1::AdminEvent& event : page.events) {
    ++seq;
    if (event.seq() != seq || event.prev_hash() != prev_hash) return false;
    try {
      if (ComputeAdminEventHash(event) != event.hash()) return false;
    } catch (const std::exception&) {
      return false;
    }
    prev_hash = event.hash();
  }
  // A page short of its limit has read the trail to its end, which must be
  // the head the store keeps: else events were removed from, or added to,
  // the end.
  const bool read_to_end = static_cast<int>(page.events.size()) < page.limit;
  if (read_to_end || seq >= page.event_count) {
    return seq == page.event_count && prev_hash == page.head_hash;
  }
  return true;
}

}  // namespace signoff::storage
