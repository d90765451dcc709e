#include "storage/event_chain.h"

#include <openssl/evp.h>

#include <cstdint>
#include <stdexcept>
#include <vector>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"
#include "storage/store.h"

namespace signoff::storage {
namespace {

std::string DeterministicBytes(const signoff::v1::Event& event) {
  signoff::v1::Event stripped = event;
  stripped.clear_global_seq();
  stripped.clear_prev_hash();
  stripped.clear_hash();
  std::string bytes;
  {
    google::protobuf::io::StringOutputStream raw(&bytes);
    google::protobuf::io::CodedOutputStream coded(&raw);
    coded.SetSerializationDeterministic(true);
    stripped.SerializeToCodedStream(&coded);
  }
  return bytes;
}

// Length-prefixes each part so that no two different inputs concatenate to
// the same bytes.
void AppendField(std::string* out, absl::string_view field) {
  absl::StrAppend(out, field.size(), ":", field, ";");
}

std::string Sha256Hex(const std::string& input) {
  unsigned char digest[EVP_MAX_MD_SIZE];
  unsigned int length = 0;
  if (EVP_Digest(input.data(), input.size(), digest, &length, EVP_sha256(),
                 nullptr) != 1) {
    throw std::runtime_error("SHA-256 failed");
  }
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), length));
}

}  // namespace

std::string ComputeEventHash(const signoff::v1::Event& event) {
  std::string input;
  AppendField(&input, event.prev_hash());
  AppendField(&input, event.instance_id());
  AppendField(&input, absl::StrCat(event.instance_seq()));
  AppendField(&input, DeterministicBytes(event));
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
