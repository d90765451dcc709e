#pragma once

#include <grpcpp/support/byte_buffer.h>

#include <optional>
#include <string>

#include "google/protobuf/message.h"

namespace signoff::server {

// A message's bytes as gRPC carries them; nullopt when gRPC cannot hand
// them over.
std::optional<std::string> BytesOf(const grpc::ByteBuffer& buffer);

// A message serialized into one slice, for a raw-bytes reply.
grpc::ByteBuffer BufferOf(const std::string& bytes);

}  // namespace signoff::server
