#include "storage/webhook_store.h"

#include <soci/soci.h>

#include <algorithm>
#include <limits>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "absl/strings/str_split.h"
#include "storage/codec.h"
#include "storage/soci_statements.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

using signoff::v1::Delivery;
using signoff::v1::Webhook;

constexpr char kDeliveryList[] = "deliveries";
constexpr int kDefaultDeliveryPageSize = 100;
constexpr char kDeletedError[] = "the subscription was deleted";

constexpr char kWebhookColumns[] =
    "SELECT id, owner, url, kinds, definition_keys, max_attempts, secret,"
    " start_after_global_seq, created_us, deleted_us FROM webhooks";

constexpr char kDeliveryColumns[] =
    "SELECT id, webhook_id, global_seq, item_index, kind, status, attempts, last_error,"
    " next_attempt_us, delivered_us, created_us FROM webhook_deliveries";

// Lists are stored newline-separated; the application refuses values that
// hold a newline.
std::string JoinList(const google::protobuf::RepeatedPtrField<std::string>& values) {
  return absl::StrJoin(values, "\n");
}

void SplitInto(const std::string& joined, google::protobuf::RepeatedPtrField<std::string>* out) {
  if (joined.empty()) return;
  for (absl::string_view value : absl::StrSplit(joined, '\n')) out->Add(std::string(value));
}

google::protobuf::Timestamp TimestampOf(int64_t micros) {
  google::protobuf::Timestamp time;
  time.set_seconds(micros / 1000000);
  time.set_nanos(static_cast<int32_t>(micros % 1000000) * 1000);
  return time;
}

int64_t MicrosOf(const google::protobuf::Timestamp& time) {
  return time.seconds() * 1000000 + time.nanos() / 1000;
}

// One row of kWebhookColumns, bound once and read row by row.
struct WebhookRow {
  std::string id, owner, url, kinds, definition_keys, secret;
  int max_attempts = 0;
  int64_t start_after = 0, created_us = 0, deleted_us = 0;
  soci::indicator deleted_ind = soci::i_null;

  void Bind(soci::statement& statement) {
    statement.exchange(soci::into(id));
    statement.exchange(soci::into(owner));
    statement.exchange(soci::into(url));
    statement.exchange(soci::into(kinds));
    statement.exchange(soci::into(definition_keys));
    statement.exchange(soci::into(max_attempts));
    statement.exchange(soci::into(secret));
    statement.exchange(soci::into(start_after));
    statement.exchange(soci::into(created_us));
    statement.exchange(soci::into(deleted_us, deleted_ind));
  }

  StoredWebhook Stored() const {
    StoredWebhook stored;
    Webhook& webhook = stored.webhook;
    webhook.set_id(id);
    webhook.set_owner(owner);
    webhook.set_url(url);
    SplitInto(kinds, webhook.mutable_kinds());
    SplitInto(definition_keys, webhook.mutable_definition_keys());
    webhook.set_max_attempts(max_attempts);
    *webhook.mutable_created_at() = TimestampOf(created_us);
    webhook.set_start_after_global_seq(start_after);
    stored.secret = secret;
    stored.deleted = deleted_ind == soci::i_ok;
    return stored;
  }
};

struct DeliveryRow {
  std::string id, webhook_id, kind, last_error;
  int64_t global_seq = 0, next_attempt_us = 0, delivered_us = 0, created_us = 0;
  int item_index = 0, status = 0, attempts = 0;
  soci::indicator delivered_ind = soci::i_null;

  void Bind(soci::statement& statement) {
    statement.exchange(soci::into(id));
    statement.exchange(soci::into(webhook_id));
    statement.exchange(soci::into(global_seq));
    statement.exchange(soci::into(item_index));
    statement.exchange(soci::into(kind));
    statement.exchange(soci::into(status));
    statement.exchange(soci::into(attempts));
    statement.exchange(soci::into(last_error));
    statement.exchange(soci::into(next_attempt_us));
    statement.exchange(soci::into(delivered_us, delivered_ind));
    statement.exchange(soci::into(created_us));
  }

  Delivery Message() const {
    Delivery delivery;
    delivery.set_id(id);
    delivery.set_webhook_id(webhook_id);
    delivery.set_global_seq(global_seq);
    delivery.set_kind(kind);
    delivery.set_status(static_cast<signoff::v1::DeliveryStatus>(status));
    delivery.set_attempts(attempts);
    delivery.set_last_error(last_error);
    if (status == signoff::v1::DELIVERY_PENDING) {
      *delivery.mutable_next_attempt_at() = TimestampOf(next_attempt_us);
    }
    if (delivered_ind == soci::i_ok) *delivery.mutable_delivered_at() = TimestampOf(delivered_us);
    *delivery.mutable_created_at() = TimestampOf(created_us);
    return delivery;
  }
};

// Where a newest-first page of deliveries goes on: below this item.
struct DeliveryPosition {
  int64_t global_seq = 0;
  int item_index = 0;
};

absl::StatusOr<DeliveryPosition> DecodeDeliveryPosition(const std::string& token) {
  SIGNOFF_ASSIGN_OR_RETURN(std::string position, DecodePageToken(kDeliveryList, token));
  std::vector<std::string> parts = absl::StrSplit(position, ':');
  DeliveryPosition decoded;
  if (parts.size() != 2 || !absl::SimpleAtoi(parts[0], &decoded.global_seq) ||
      !absl::SimpleAtoi(parts[1], &decoded.item_index)) {
    return absl::InvalidArgumentError("page_token is not a token from a previous deliveries page");
  }
  return decoded;
}



class WebhookWriter {
 public:
  WebhookWriter(soci::session& session, const Dialect& dialect)
      : session_(session), dialect_(dialect) {}

  absl::StatusOr<WebhookWriteResult> Apply(const WebhookWrites& writes) {
    WebhookWriteResult result;
    if (writes.advance) SIGNOFF_RETURN_IF_ERROR(Advance(*writes.advance));
    if (writes.create) Create(*writes.create);
    if (writes.deletion) Delete(*writes.deletion);
    for (const DeliveryOutcome& outcome : writes.outcomes) Record(outcome);
    if (writes.replay) result.replayed = Replay(*writes.replay);
    if (writes.claim) {
      SIGNOFF_ASSIGN_OR_RETURN(result.claimed, Claim(*writes.claim));
    }
    return result;
  }

 private:
  absl::Status Advance(const WebhookDispatchAdvance& advance) {
    soci::statement move =
        (session_.prepare << "UPDATE webhook_dispatch SET after_global_seq = :to"
                             " WHERE id = 1 AND after_global_seq = :from AND generation = :g",
         soci::use(advance.to), soci::use(advance.from.after_global_seq),
         soci::use(advance.from.generation));
    if (AffectedRows(move) != 1) {
      return absl::AbortedError(
          "webhook dispatch moved on, or its subscriptions changed, since it was read");
    }
    for (const NewDelivery& delivery : advance.deliveries) Insert(delivery);
    return absl::OkStatus();
  }

  void Insert(const NewDelivery& delivery) {
    const int64_t created_us = absl::ToUnixMicros(delivery.created_at);
    const int pending = signoff::v1::DELIVERY_PENDING;
    session_ << "INSERT INTO webhook_deliveries (id, webhook_id, global_seq, item_index, kind,"
                " body, status, attempts, last_error, next_attempt_us, created_us)"
                " VALUES (:i, :w, :g, :x, :k, :b, :s, 0, '', :n, :c)"
                " ON CONFLICT (id) DO NOTHING",
        soci::use(delivery.id), soci::use(delivery.webhook_id), soci::use(delivery.global_seq),
        soci::use(delivery.item_index), soci::use(delivery.kind), soci::use(delivery.body),
        soci::use(pending), soci::use(created_us), soci::use(created_us);
  }

  void Create(const StoredWebhook& stored) {
    const Webhook& webhook = stored.webhook;
    const std::string kinds = JoinList(webhook.kinds());
    const std::string definition_keys = JoinList(webhook.definition_keys());
    const int max_attempts = webhook.max_attempts();
    const int64_t start_after = webhook.start_after_global_seq();
    const int64_t created_us = MicrosOf(webhook.created_at());
    session_ << "INSERT INTO webhooks (id, owner, url, kinds, definition_keys, max_attempts,"
                " secret, start_after_global_seq, created_us)"
                " VALUES (:i, :o, :u, :k, :d, :m, :s, :a, :c)",
        soci::use(webhook.id()), soci::use(webhook.owner()), soci::use(webhook.url()),
        soci::use(kinds), soci::use(definition_keys), soci::use(max_attempts),
        soci::use(stored.secret), soci::use(start_after), soci::use(created_us);
    // A dispatcher that matched past the start without this subscription
    // matches that stretch again; deliveries it already wrote are kept
    // once by their ids.
    session_ << "UPDATE webhook_dispatch SET generation = generation + 1,"
                " after_global_seq = CASE WHEN after_global_seq > :a THEN :a2"
                " ELSE after_global_seq END WHERE id = 1",
        soci::use(start_after), soci::use(start_after);
  }

  void Delete(const WebhookDeletion& deletion) {
    const int64_t at_us = absl::ToUnixMicros(deletion.at);
    session_ << "UPDATE webhooks SET deleted_us = :t WHERE id = :i AND deleted_us IS NULL",
        soci::use(at_us), soci::use(deletion.id);
    const std::string error = kDeletedError;
    const int dead = signoff::v1::DELIVERY_DEAD;
    const int pending = signoff::v1::DELIVERY_PENDING;
    session_ << "UPDATE webhook_deliveries SET status = :d, last_error = :e,"
                " lease_owner = NULL, lease_until_us = NULL"
                " WHERE webhook_id = :i AND status = :p",
        soci::use(dead), soci::use(error), soci::use(deletion.id), soci::use(pending);
    session_ << "UPDATE webhook_dispatch SET generation = generation + 1 WHERE id = 1";
  }

  void Record(const DeliveryOutcome& outcome) {
    const int64_t at_us = absl::ToUnixMicros(outcome.at);
    const int pending = signoff::v1::DELIVERY_PENDING;
    if (outcome.delivered) {
      const int delivered = signoff::v1::DELIVERY_DELIVERED;
      session_ << "UPDATE webhook_deliveries SET status = :s, attempts = attempts + 1,"
                  " last_error = '', delivered_us = :t, lease_owner = NULL, lease_until_us = NULL"
                  " WHERE id = :i AND lease_owner = :o AND status = :p",
          soci::use(delivered), soci::use(at_us), soci::use(outcome.id),
          soci::use(outcome.owner), soci::use(pending);
      return;
    }
    const int status = outcome.dead ? signoff::v1::DELIVERY_DEAD : pending;
    const int64_t next_us = absl::ToUnixMicros(outcome.next_attempt_at);
    session_ << "UPDATE webhook_deliveries SET status = :s, attempts = attempts + 1,"
                " last_error = :e, next_attempt_us = :n, lease_owner = NULL, lease_until_us = NULL"
                " WHERE id = :i AND lease_owner = :o AND status = :p",
        soci::use(status), soci::use(outcome.error), soci::use(next_us), soci::use(outcome.id),
        soci::use(outcome.owner), soci::use(pending);
  }

  int Replay(const DeliveryReplay& replay) {
    const int64_t at_us = absl::ToUnixMicros(replay.at);
    const int pending = signoff::v1::DELIVERY_PENDING;
    const int dead = signoff::v1::DELIVERY_DEAD;
    int replayed = 0;
    for (const std::string& id : replay.delivery_ids) {
      soci::statement again =
          (session_.prepare << "UPDATE webhook_deliveries SET status = :p, attempts = 0,"
                               " last_error = '', next_attempt_us = :t, lease_owner = NULL,"
                               " lease_until_us = NULL"
                               " WHERE id = :i AND webhook_id = :w AND status = :d",
           soci::use(pending), soci::use(at_us), soci::use(id), soci::use(replay.webhook_id),
           soci::use(dead));
      replayed += static_cast<int>(AffectedRows(again));
    }
    return replayed;
  }

  // The oldest pending delivery of each subscription that is due and not
  // leased; a subscription whose oldest is leased or waiting sends nothing
  // newer meanwhile.
  absl::StatusOr<std::vector<ClaimedDelivery>> Claim(const DeliveryClaim& claim) {
    const int64_t now_us = absl::ToUnixMicros(claim.now);
    const int64_t lease_until_us = absl::ToUnixMicros(claim.now + claim.lease);
    const int limit = std::max(1, claim.limit);
    const int pending = signoff::v1::DELIVERY_PENDING;
    std::vector<std::string> ids;
    std::string id;
    soci::statement lease =
        (session_.prepare
             << "UPDATE webhook_deliveries SET lease_owner = :o, lease_until_us = :l"
                " WHERE id IN (SELECT d.id FROM webhook_deliveries d"
                " WHERE d.status = :p AND d.next_attempt_us <= :now"
                " AND (d.lease_until_us IS NULL OR d.lease_until_us < :now2)"
                " AND NOT EXISTS (SELECT 1 FROM webhook_deliveries e"
                " WHERE e.webhook_id = d.webhook_id AND e.status = :p2"
                " AND (e.global_seq < d.global_seq"
                " OR (e.global_seq = d.global_seq AND e.item_index < d.item_index)))"
                " ORDER BY d.next_attempt_us, d.global_seq, d.item_index LIMIT :n" +
                    dialect_.LockSkipLockedClause() + ") RETURNING id",
         soci::use(claim.owner), soci::use(lease_until_us), soci::use(pending),
         soci::use(now_us), soci::use(now_us), soci::use(pending), soci::use(limit),
         soci::into(id));
    if (lease.execute(true)) {
      do {
        ids.push_back(id);
      } while (lease.fetch());
    }
    std::vector<ClaimedDelivery> claimed;
    for (const std::string& leased : ids) {
      SIGNOFF_ASSIGN_OR_RETURN(claimed.emplace_back(), Claimed(leased));
    }
    std::sort(claimed.begin(), claimed.end(),
              [](const ClaimedDelivery& a, const ClaimedDelivery& b) {
                return MicrosOf(a.delivery.next_attempt_at()) <
                       MicrosOf(b.delivery.next_attempt_at());
              });
    return claimed;
  }

  absl::StatusOr<ClaimedDelivery> Claimed(const std::string& id) {
    DeliveryRow row;
    ClaimedDelivery claimed;
    soci::statement read(session_);
    read.exchange(soci::use(id));
    row.Bind(read);
    Compile(read, std::string(kDeliveryColumns) + " WHERE id = :i");
    read.execute(true);
    if (!read.got_data()) return absl::InternalError("a leased delivery vanished");
    claimed.delivery = row.Message();
    session_ << "SELECT body FROM webhook_deliveries WHERE id = :i", soci::use(id),
        soci::into(claimed.body);
    session_ << "SELECT url, secret, max_attempts FROM webhooks WHERE id = :i",
        soci::use(row.webhook_id), soci::into(claimed.url), soci::into(claimed.secret),
        soci::into(claimed.max_attempts);
    return claimed;
  }

  soci::session& session_;
  const Dialect& dialect_;
};

}  // namespace

absl::StatusOr<StoredWebhook> QueryWebhook(soci::session& session, const std::string& id) {
  WebhookRow row;
  soci::statement read(session);
  read.exchange(soci::use(id));
  row.Bind(read);
  Compile(read, std::string(kWebhookColumns) + " WHERE id = :i");
  read.execute(true);
  if (!read.got_data()) {
    return absl::NotFoundError(absl::StrCat("webhook ", workflow::ShortForMessage(id),
                                            " not found"));
  }
  return row.Stored();
}

absl::StatusOr<std::vector<StoredWebhook>> QueryWebhooks(soci::session& session,
                                                         const std::string& owner) {
  WebhookRow row;
  const int every_owner = owner.empty() ? 1 : 0;
  soci::statement read(session);
  read.exchange(soci::use(owner));
  read.exchange(soci::use(every_owner));
  row.Bind(read);
  Compile(read, std::string(kWebhookColumns) +
                    " WHERE deleted_us IS NULL AND (owner = :o OR :all = 1)"
                    " ORDER BY created_us, id");
  read.execute();
  std::vector<StoredWebhook> webhooks;
  while (read.fetch()) webhooks.push_back(row.Stored());
  return webhooks;
}

absl::StatusOr<Page<Delivery>> QueryDeliveries(soci::session& session,
                                               const DeliveryFilter& filter) {
  const int page_size = ClampPageSize(filter.page_size, kDefaultDeliveryPageSize);
  DeliveryPosition below{std::numeric_limits<int64_t>::max(), 0};
  if (!filter.page_token.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(below, DecodeDeliveryPosition(filter.page_token));
  }
  const int any_status = filter.dead_only ? 0 : 1;
  const int dead = signoff::v1::DELIVERY_DEAD;
  // One more than the page, to know whether another page follows.
  const int fetch = page_size + 1;
  DeliveryRow row;
  soci::statement read(session);
  read.exchange(soci::use(filter.webhook_id));
  read.exchange(soci::use(dead));
  read.exchange(soci::use(any_status));
  read.exchange(soci::use(below.global_seq));
  read.exchange(soci::use(below.global_seq));
  read.exchange(soci::use(below.item_index));
  read.exchange(soci::use(fetch));
  row.Bind(read);
  Compile(read, std::string(kDeliveryColumns) +
                    " WHERE webhook_id = :w AND (status = :d OR :any = 1)"
                    " AND (global_seq < :g OR (global_seq = :g2 AND item_index < :x))"
                    " ORDER BY global_seq DESC, item_index DESC LIMIT :n");
  read.execute();
  Page<Delivery> page;
  DeliveryPosition last;
  while (read.fetch()) {
    if (static_cast<int>(page.items.size()) == page_size) {
      page.next_page_token =
          EncodePageToken(kDeliveryList, absl::StrCat(last.global_seq, ":", last.item_index));
      break;
    }
    page.items.push_back(row.Message());
    last = {row.global_seq, row.item_index};
  }
  return page;
}

absl::StatusOr<WebhookDispatchPosition> QueryWebhookDispatchPosition(soci::session& session) {
  WebhookDispatchPosition position;
  session << "SELECT after_global_seq, generation FROM webhook_dispatch WHERE id = 1",
      soci::into(position.after_global_seq), soci::into(position.generation);
  if (!session.got_data()) return absl::InternalError("webhook_dispatch has no row");
  return position;
}

absl::StatusOr<WebhookWriteResult> ApplyWebhookWrites(soci::session& session,
                                                      const Dialect& dialect,
                                                      const WebhookWrites& writes) {
  return WebhookWriter(session, dialect).Apply(writes);
}

}  // namespace signoff::storage
