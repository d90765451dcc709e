#pragma once

// The admin audit trail's rows: admin events chained and inserted inside
// the writer's transaction, and pages of them read back.

#include <cstdint>
#include <string>

#include "absl/status/statusor.h"
#include "storage/encoded_mutation.h"
#include "storage/store.h"

namespace soci {
class session;
}

namespace signoff::storage {

class Dialect;

// Where the trail ends: how many admin events it has, and the last hash.
struct AdminChainHead {
  int64_t seq = 0;
  std::string hash;
};

// Reads the trail's head and keeps its row locked until the transaction
// ends, so that writers appending at once, replicas included, take turns
// and the trail stays one chain. Database errors are thrown, as by SOCI.
AdminChainHead LockAdminChainHead(soci::session& session);

// Chains the mutation's admin events after `head`, inserts them, adds them
// to `result` as stored and moves `head` on.
void AppendAdminEvents(soci::session& session, const Dialect& dialect,
                       const EncodedMutation& mutation, CommitResult& result,
                       AdminChainHead& head);

// Keeps `head` as the trail's end; in the transaction that appended to it.
void SaveAdminChainHead(soci::session& session, const AdminChainHead& head);

// Store::ListAdminEvents, inside the caller's read transaction.
absl::StatusOr<AdminTrailPage> QueryAdminTrailPage(soci::session& session, int64_t after_seq,
                                                   int limit);

}  // namespace signoff::storage
