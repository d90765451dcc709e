#include "storage/admin_trail.h"

#include <soci/soci.h>

#include <stdexcept>

#include "storage/codec.h"
#include "storage/dialect.h"
#include "storage/event_chain.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {

using signoff::v1::AdminEvent;

AdminChainHead LockAdminChainHead(soci::session& session) {
  // Writing the row, even to the same values, is what takes its lock on
  // every database; on PostgreSQL a writer that waited for it then reads
  // the head the other writer committed.
  AdminChainHead head;
  session << "UPDATE admin_chain_head SET seq = seq WHERE id = 1 RETURNING seq, hash",
      soci::into(head.seq), soci::into(head.hash);
  if (!session.got_data()) {
    throw std::runtime_error("the admin audit trail's head row is missing");
  }
  return head;
}

void AppendAdminEvents(soci::session& session, const Dialect& dialect,
                       const EncodedMutation& mutation, CommitResult& result,
                       AdminChainHead& head) {
  const std::vector<AdminEvent>& events = mutation.mutation.admin_events;
  for (size_t i = 0; i < events.size(); ++i) {
    // Bound by reference, so kept in variables that outlive the statement.
    const int64_t seq = head.seq + 1;
    AdminEvent& stored = result.admin_events.emplace_back(events[i]);
    stored.set_seq(seq);
    stored.set_prev_hash(head.hash);
    stored.set_hash(ComputeAdminEventHash(events[i], seq, head.hash));
    std::string body = mutation.admin_event_bodies[i];
    dialect.PrepareBodyValue(&body);
    const int64_t time_us = workflow::ToUnixMicros(stored.time());
    session << "INSERT INTO admin_events (seq, time_us, actor, action, target, body, prev_hash,"
               " hash) VALUES (:s, :t, :a, :ac, :tg, " +
                   dialect.BodyParameter(":b") + ", :p, :h)",
        soci::use(seq), soci::use(time_us), soci::use(stored.actor()),
        soci::use(stored.action()), soci::use(stored.target()), soci::use(body),
        soci::use(stored.prev_hash()), soci::use(stored.hash());
    head = AdminChainHead{seq, stored.hash()};
  }
}

void SaveAdminChainHead(soci::session& session, const AdminChainHead& head) {
  session << "UPDATE admin_chain_head SET seq = :s, hash = :h WHERE id = 1", soci::use(head.seq),
      soci::use(head.hash);
}

absl::StatusOr<AdminTrailPage> QueryAdminTrailPage(soci::session& session, int64_t after_seq,
                                                   int limit) {
  if (after_seq < 0) return absl::InvalidArgumentError("after_seq must not be negative");
  if (limit < 1) return absl::InvalidArgumentError("an admin event page holds at least one event");
  AdminTrailPage page;
  page.after_seq = after_seq;
  page.limit = limit;
  session << "SELECT seq, hash FROM admin_chain_head WHERE id = 1", soci::into(page.event_count),
      soci::into(page.head_hash);
  if (after_seq == 0) {
    page.link_hash = "";
  } else {
    std::string link;
    session << "SELECT hash FROM admin_events WHERE seq = :s", soci::use(after_seq),
        soci::into(link);
    if (session.got_data()) page.link_hash = std::move(link);
  }
  int64_t seq = 0;
  std::string prev_hash, hash, body;
  soci::statement rows =
      (session.prepare << "SELECT seq, prev_hash, hash, body FROM admin_events WHERE seq > :a"
                          " ORDER BY seq LIMIT :n",
       soci::use(after_seq), soci::use(limit), soci::into(seq), soci::into(prev_hash),
       soci::into(hash), soci::into(body));
  rows.execute();
  while (rows.fetch()) {
    AdminEvent& event = page.events.emplace_back();
    SIGNOFF_RETURN_IF_ERROR(DecodeBody(body, &event));
    // The columns, not the body, are what the chain was computed with.
    event.set_seq(seq);
    event.set_prev_hash(prev_hash);
    event.set_hash(hash);
  }
  return page;
}

}  // namespace signoff::storage
