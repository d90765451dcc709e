#include "storage/digest.h"

#include <openssl/sha.h>

#include "absl/strings/escaping.h"
#include "absl/strings/str_cat.h"
#include "google/protobuf/io/coded_stream.h"
#include "google/protobuf/io/zero_copy_stream_impl_lite.h"

namespace signoff::storage {

std::string DeterministicBytes(const google::protobuf::Message& message) {
  std::string bytes;
  google::protobuf::io::StringOutputStream stream(&bytes);
  google::protobuf::io::CodedOutputStream coded(&stream);
  coded.SetSerializationDeterministic(true);
  message.SerializeToCodedStream(&coded);
  coded.Trim();
  return bytes;
}

// SHA256() rather than EVP_Digest: the EVP call looks the algorithm up
// again on every use, which costs more than hashing a small message.
std::string Sha256Hex(const std::string& input) {
  unsigned char digest[SHA256_DIGEST_LENGTH];
  SHA256(reinterpret_cast<const unsigned char*>(input.data()), input.size(), digest);
  return absl::BytesToHexString(
      absl::string_view(reinterpret_cast<const char*>(digest), sizeof(digest)));
}

std::string Sha256HexOfFields(std::initializer_list<absl::string_view> fields) {
  std::string input;
  for (absl::string_view field : fields) absl::StrAppend(&input, field.size(), ":", field, ";");
  return Sha256Hex(input);
}

}  // namespace signoff::storage
