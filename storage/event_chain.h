#pragma once

#include <string>

#include "signoff/v1/instance.pb.h"

namespace signoff::storage {

// The lowercase hex SHA-256 that chains `event` to its predecessor. It
// covers prev_hash, instance_id, instance_seq and the event's deterministic
// binary serialization with global_seq, prev_hash and hash cleared:
// global_seq is left out because it is assigned by the database, not by
// the chain.
std::string ComputeEventHash(const signoff::v1::Event& event);

}  // namespace signoff::storage
