#pragma once

#include <string>

#include "signoff/v1/audit.pb.h"
#include "signoff/v1/instance.pb.h"

namespace signoff::storage {

// The lowercase hex SHA-256 that chains `event` to its predecessor. It
// covers prev_hash, instance_id, instance_seq and the event's deterministic
// binary serialization with global_seq, prev_hash and hash cleared:
// global_seq is left out because it is assigned by the database, not by
// the chain.
std::string ComputeEventHash(const signoff::v1::Event& event);
// The same for an event that does not carry prev_hash yet: it is given
// apart, which saves copying the event to clear it.
std::string ComputeEventHash(const signoff::v1::Event& unchained, const std::string& prev_hash);

// The hash that chains an admin event to its predecessor: it covers
// prev_hash, seq and the event's deterministic binary serialization with
// seq, prev_hash and hash cleared.
std::string ComputeAdminEventHash(const signoff::v1::AdminEvent& event);
// The same for an event that carries none of seq, prev_hash and hash yet.
std::string ComputeAdminEventHash(const signoff::v1::AdminEvent& unchained, int64_t seq,
                                  const std::string& prev_hash);

}  // namespace signoff::storage
