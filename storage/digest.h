#pragma once

// Digests of messages, for the audit chain and for telling a repeated
// request from a reuse of its request_id.

#include <string>

#include "google/protobuf/message.h"

namespace signoff::storage {

// The message's deterministic binary serialization: the same content
// always gives the same bytes, whatever order its maps were filled in.
std::string DeterministicBytes(const google::protobuf::Message& message);

// The lowercase hex SHA-256 of `input`.
std::string Sha256Hex(const std::string& input);

}  // namespace signoff::storage
