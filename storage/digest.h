#pragma once

// Digests of messages, for the audit chain and for telling a repeated
// request from a reuse of its request_id.

#include <initializer_list>
#include <string>

#include "absl/strings/string_view.h"
#include "google/protobuf/message.h"

namespace signoff::storage {

// The message's deterministic binary serialization: the same content
// always gives the same bytes, whatever order its maps were filled in.
std::string DeterministicBytes(const google::protobuf::Message& message);

// The lowercase hex SHA-256 of `input`.
std::string Sha256Hex(const std::string& input);

// The lowercase hex SHA-256 of `fields`, each written as its decimal byte
// length, ":", itself and ";", so that no two different lists of fields
// hash alike. The audit chains link their entries with it.
std::string Sha256HexOfFields(std::initializer_list<absl::string_view> fields);

}  // namespace signoff::storage
