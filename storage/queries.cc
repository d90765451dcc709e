#include "storage/queries.h"

#include <soci/soci.h>

#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/codec.h"
#include "storage/documents.h"
#include "storage/sql_query.h"
#include "workflow/errors.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

using signoff::v1::DefinitionSummary;
using signoff::v1::Event;
using signoff::v1::InstanceState;
using signoff::v1::PublishedDefinition;

constexpr int kDefaultInstancePageSize = 50;

}  // namespace

absl::StatusOr<History> QueryChainHead(soci::session& session, const std::string& instance_id) {
  History history;
  session << "SELECT event_count, chain_head FROM instances WHERE id = :i",
      soci::use(instance_id), soci::into(history.event_count), soci::into(history.head_hash);
  if (!session.got_data()) {
    return absl::NotFoundError(
        absl::StrCat("no instance ", workflow::ShortForMessage(instance_id)));
  }
  return history;
}

absl::StatusOr<std::optional<IdempotencyRecord>> QueryIdempotency(
    soci::session& session, const std::string& caller, const std::string& request_id) {
  IdempotencyRecord record;
  record.caller = caller;
  session << "SELECT request_id, method, fingerprint, reply FROM idempotency"
             " WHERE caller = :c AND request_id = :r",
      soci::use(caller), soci::use(request_id), soci::into(record.request_id),
      soci::into(record.method), soci::into(record.fingerprint), soci::into(record.reply);
  if (!session.got_data()) return std::nullopt;
  SIGNOFF_ASSIGN_OR_RETURN(record.reply, StoredBytes(std::move(record.reply)));
  return record;
}

absl::StatusOr<PublishedDefinition> QueryDefinition(soci::session& session,
                                                    const std::string& key,
                                                    int32_t version) {
  SIGNOFF_ASSIGN_OR_RETURN(DocumentRow row,
                           QueryDocument(session, DocumentKind::kDefinition, key, version));
  PublishedDefinition published;
  SIGNOFF_RETURN_IF_ERROR(Decode(row, &published));
  return published;
}

absl::StatusOr<std::vector<DefinitionSummary>> QueryDefinitionSummaries(
    soci::session& session) {
  std::vector<DefinitionSummary> summaries;
  for (const DocumentRow& row : QueryLatestDocuments(session, DocumentKind::kDefinition)) {
    PublishedDefinition published;
    SIGNOFF_RETURN_IF_ERROR(Decode(row, &published));
    DefinitionSummary& summary = summaries.emplace_back();
    summary.set_key(row.key);
    summary.set_name(published.definition().name());
    summary.set_latest_version(row.version);
    *summary.mutable_published_at() = published.published_at();
  }
  return summaries;
}

absl::StatusOr<signoff::v1::PublishedCalendar> QueryCalendar(soci::session& session,
                                                             const std::string& name,
                                                             int32_t version) {
  SIGNOFF_ASSIGN_OR_RETURN(DocumentRow row,
                           QueryDocument(session, DocumentKind::kCalendar, name, version));
  signoff::v1::PublishedCalendar published;
  SIGNOFF_RETURN_IF_ERROR(Decode(row, &published));
  return published;
}

absl::StatusOr<std::vector<signoff::v1::PublishedCalendar>> QueryLatestCalendars(
    soci::session& session) {
  std::vector<signoff::v1::PublishedCalendar> calendars;
  for (const DocumentRow& row : QueryLatestDocuments(session, DocumentKind::kCalendar)) {
    SIGNOFF_RETURN_IF_ERROR(Decode(row, &calendars.emplace_back()));
  }
  return calendars;
}

std::string ReadableCondition(const ReadableBy& readable, const std::string& instance_column,
                              SqlQuery& query) {
  std::vector<std::string> ways;
  if (!readable.definition_keys.empty()) {
    std::vector<std::string> keys;
    for (const auto& key : readable.definition_keys) keys.push_back(query.Bind(key));
    const std::string key_list = absl::StrJoin(keys, ", ");
    ways.push_back(instance_column == "id"
                       ? absl::StrCat("definition_key IN (", key_list, ")")
                       : absl::StrCat(instance_column,
                                      " IN (SELECT id FROM instances WHERE definition_key IN (",
                                      key_list, "))"));
  }
  if (!readable.principals.empty()) {
    std::vector<std::string> principals;
    for (const auto& principal : readable.principals) principals.push_back(query.Bind(principal));
    ways.push_back(absl::StrCat(instance_column,
                                " IN (SELECT instance_id FROM instance_access WHERE principal IN (",
                                absl::StrJoin(principals, ", "), "))"));
  }
  if (ways.empty()) return "1 = 0";
  return absl::StrJoin(ways, " OR ");
}

absl::StatusOr<std::vector<workflow::AccessGrant>> QueryAccessGrants(
    soci::session& session, const std::string& instance_id) {
  std::string principal;
  int kind = 0;
  soci::statement statement =
      (session.prepare << "SELECT principal, kind FROM instance_access WHERE instance_id = :i"
                          " ORDER BY principal, kind",
       soci::use(instance_id), soci::into(principal), soci::into(kind));
  statement.execute();
  std::vector<workflow::AccessGrant> grants;
  while (statement.fetch()) {
    grants.push_back({principal, static_cast<workflow::AccessKind>(kind)});
  }
  return grants;
}

absl::StatusOr<Page<InstanceState>> QueryInstances(soci::session& session,
                                                   const InstanceFilter& filter) {
  const int page_size = ClampPageSize(filter.page_size, kDefaultInstancePageSize);
  SqlQuery query("SELECT state FROM instances");
  if (!filter.page_token.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(std::string after, DecodePageToken("instances", filter.page_token));
    query.Where(absl::StrCat("id < ", query.Bind(after)));
  }
  if (!filter.definition_key.empty()) {
    query.Where(absl::StrCat("definition_key = ", query.Bind(filter.definition_key)));
  }
  if (filter.status != signoff::v1::INSTANCE_STATUS_UNSPECIFIED) {
    query.Where(absl::StrCat("status = ", query.Bind(int64_t{filter.status})));
  }
  if (!filter.applicant.empty()) {
    query.Where(absl::StrCat("applicant = ", query.Bind(filter.applicant)));
  }
  if (!filter.subject.empty()) {
    query.Where(absl::StrCat("subject = ", query.Bind(filter.subject)));
  }
  if (filter.sla_breached) query.Where("sla_breached = 1");
  if (!filter.outcome.empty()) {
    query.Where(absl::StrCat("outcome = ", query.Bind(filter.outcome)));
  }
  if (!filter.copied_to.empty()) {
    query.Where(absl::StrCat(
        "id IN (SELECT instance_id FROM instance_access WHERE principal = ",
        query.Bind(workflow::UserPrincipal(filter.copied_to)),
        " AND kind = ", query.Bind(int64_t{static_cast<int>(workflow::AccessKind::kCopied)}), ")"));
  }
  if (filter.readable_by) query.Where(ReadableCondition(*filter.readable_by, "id", query));
  query.Append(absl::StrCat(" ORDER BY id DESC LIMIT ", query.Bind(int64_t{page_size + 1})));
  SIGNOFF_ASSIGN_OR_RETURN(std::vector<InstanceState> rows,
                   FetchBodyRows<InstanceState>(session, query));
  return MakePage(std::move(rows), page_size, "instances",
                  [](const InstanceState& instance) { return instance.id(); });
}

namespace {

// The columns of one event row as a statement fetches them.
struct EventColumns {
  int64_t global_seq = 0;
  std::string instance_id;
  int64_t instance_seq = 0;
  std::string prev_hash;
  std::string hash;
  std::string body;
};

constexpr char kEventColumns[] = "global_seq, instance_id, instance_seq, prev_hash, hash, body";

struct NotificationColumns {
  int64_t id = 0;
  int64_t global_seq = 0;
  std::string body;
  int64_t read_us = 0;
  soci::indicator read_indicator = soci::i_null;
};

constexpr char kNotificationColumns[] = "id, global_seq, body, read_us";

void IntoNotificationColumns(soci::statement& statement, NotificationColumns& row) {
  statement.exchange(soci::into(row.id));
  statement.exchange(soci::into(row.global_seq));
  statement.exchange(soci::into(row.body));
  statement.exchange(soci::into(row.read_us, row.read_indicator));
}

absl::Status DecodeNotification(const NotificationColumns& row, v1::Notification& notification) {
  SIGNOFF_RETURN_IF_ERROR(DecodeBody(row.body, &notification));
  notification.set_id(row.id);
  notification.set_global_seq(row.global_seq);
  const bool read = row.read_indicator == soci::i_ok;
  notification.set_read(read);
  if (read) *notification.mutable_read_at() = workflow::ToTimestamp(absl::FromUnixMicros(row.read_us));
  return absl::OkStatus();
}

void IntoEventColumns(soci::statement& statement, EventColumns& row) {
  statement.exchange(soci::into(row.global_seq));
  statement.exchange(soci::into(row.instance_id));
  statement.exchange(soci::into(row.instance_seq));
  statement.exchange(soci::into(row.prev_hash));
  statement.exchange(soci::into(row.hash));
  statement.exchange(soci::into(row.body));
}

absl::Status DecodeEvent(const EventColumns& row, Event& event) {
  SIGNOFF_RETURN_IF_ERROR(DecodeBody(row.body, &event));
  // The columns, not the body, are what the chain was computed with.
  event.set_global_seq(row.global_seq);
  event.set_instance_id(row.instance_id);
  event.set_instance_seq(row.instance_seq);
  event.set_prev_hash(row.prev_hash);
  event.set_hash(row.hash);
  return absl::OkStatus();
}

absl::StatusOr<std::vector<Event>> FetchEvents(soci::statement& statement, EventColumns& row) {
  statement.define_and_bind();
  statement.execute();
  std::vector<Event> events;
  while (statement.fetch()) SIGNOFF_RETURN_IF_ERROR(DecodeEvent(row, events.emplace_back()));
  return events;
}

// Gives each record the notifications its event made.
absl::Status AttachNotifications(soci::session& session, std::vector<FeedRecord>& records) {
  if (records.empty()) return absl::OkStatus();
  std::map<int64_t, FeedRecord*> by_seq;
  for (auto& record : records) by_seq[record.event.global_seq()] = &record;
  const int64_t first = records.front().event.global_seq();
  const int64_t last = records.back().event.global_seq();
  NotificationColumns row;
  soci::statement statement(session);
  statement.alloc();
  statement.prepare(absl::StrCat("SELECT ", kNotificationColumns,
                                 " FROM notifications WHERE global_seq >= :f AND global_seq <= :l"
                                 " ORDER BY id"));
  statement.exchange(soci::use(first));
  statement.exchange(soci::use(last));
  IntoNotificationColumns(statement, row);
  statement.define_and_bind();
  statement.execute();
  while (statement.fetch()) {
    auto found = by_seq.find(row.global_seq);
    if (found == by_seq.end()) continue;
    SIGNOFF_RETURN_IF_ERROR(
        DecodeNotification(row, found->second->notifications.emplace_back()));
  }
  return absl::OkStatus();
}

}  // namespace

absl::StatusOr<std::vector<Event>> QueryEvents(soci::session& session,
                                               const std::string& instance_id) {
  EventColumns row;
  soci::statement statement(session);
  statement.alloc();
  statement.prepare(absl::StrCat("SELECT ", kEventColumns,
                                 " FROM events WHERE instance_id = :i ORDER BY instance_seq"));
  statement.exchange(soci::use(instance_id));
  IntoEventColumns(statement, row);
  return FetchEvents(statement, row);
}

absl::StatusOr<std::vector<Event>> QueryEventsSince(soci::session& session,
                                                    int64_t after_global_seq, int limit) {
  if (limit < 1) return absl::InvalidArgumentError("an event page holds at least one event");
  EventColumns row;
  soci::statement statement(session);
  statement.alloc();
  statement.prepare(absl::StrCat("SELECT ", kEventColumns,
                                 " FROM events WHERE global_seq > :a ORDER BY global_seq"
                                 " LIMIT :n"));
  statement.exchange(soci::use(after_global_seq));
  statement.exchange(soci::use(limit));
  IntoEventColumns(statement, row);
  return FetchEvents(statement, row);
}

absl::StatusOr<std::vector<FeedRecord>> QueryFeedSince(soci::session& session,
                                                       int64_t after_global_seq, int limit) {
  if (limit < 1) return absl::InvalidArgumentError("a feed page holds at least one event");
  EventColumns row;
  std::string definition_key;
  int definition_version = 0;
  soci::statement statement(session);
  statement.alloc();
  // Every event column is unambiguous in the join: instances has none of
  // their names.
  statement.prepare(absl::StrCat("SELECT ", kEventColumns,
                                 ", definition_key, definition_version FROM events"
                                 " JOIN instances ON instances.id = events.instance_id"
                                 " WHERE global_seq > :a ORDER BY global_seq LIMIT :n"));
  statement.exchange(soci::use(after_global_seq));
  statement.exchange(soci::use(limit));
  IntoEventColumns(statement, row);
  statement.exchange(soci::into(definition_key));
  statement.exchange(soci::into(definition_version));
  statement.define_and_bind();
  statement.execute();
  std::vector<FeedRecord> records;
  while (statement.fetch()) {
    FeedRecord& record = records.emplace_back();
    SIGNOFF_RETURN_IF_ERROR(DecodeEvent(row, record.event));
    record.definition_key = definition_key;
    record.definition_version = definition_version;
  }
  SIGNOFF_RETURN_IF_ERROR(AttachNotifications(session, records));
  return records;
}

absl::StatusOr<int64_t> QueryFeedHead(soci::session& session) {
  int64_t head = 0;
  soci::indicator indicator = soci::i_null;
  session << "SELECT MAX(global_seq) FROM events", soci::into(head, indicator);
  return indicator == soci::i_ok ? head : 0;
}

absl::StatusOr<std::vector<OpenWork>> QueryOpenWork(soci::session& session) {
  std::map<std::string, OpenWork> by_definition;
  const int running = static_cast<int>(signoff::v1::RUNNING);
  const int returned = static_cast<int>(signoff::v1::RETURNED);
  const int pending = static_cast<int>(signoff::v1::PENDING);
  {
    std::string key;
    int64_t count = 0;
    soci::statement statement =
        (session.prepare << "SELECT definition_key, COUNT(*) FROM instances WHERE status IN "
                            "(:running, :returned) GROUP BY definition_key",
         soci::use(running), soci::use(returned), soci::into(key), soci::into(count));
    statement.execute();
    while (statement.fetch()) {
      by_definition[key].definition_key = key;
      by_definition[key].instances = count;
    }
  }
  {
    std::string key;
    int64_t count = 0;
    soci::statement statement =
        (session.prepare << "SELECT i.definition_key, COUNT(*) FROM tasks t JOIN instances i "
                            "ON i.id = t.instance_id WHERE t.status = :pending "
                            "GROUP BY i.definition_key",
         soci::use(pending), soci::into(key), soci::into(count));
    statement.execute();
    while (statement.fetch()) {
      by_definition[key].definition_key = key;
      by_definition[key].tasks = count;
    }
  }
  std::vector<OpenWork> open;
  for (auto& [key, work] : by_definition) open.push_back(std::move(work));
  return open;
}

absl::StatusOr<TimerBacklog> QueryTimerBacklog(soci::session& session, absl::Time now) {
  const int64_t now_us = absl::ToUnixMicros(now);
  TimerBacklog backlog;
  int64_t oldest_us = 0;
  soci::indicator oldest = soci::i_null;
  session << "SELECT COUNT(*) FROM timers WHERE fire_us <= :now", soci::use(now_us),
      soci::into(backlog.due);
  session << "SELECT MIN(fire_us) FROM timers WHERE fire_us <= :now", soci::use(now_us),
      soci::into(oldest_us, oldest);
  if (oldest == soci::i_ok) backlog.oldest_due = absl::FromUnixMicros(oldest_us);
  session << "SELECT COUNT(*) FROM timers WHERE fire_us <= :due AND lease_until_us IS NOT NULL "
             "AND lease_until_us <= :expired",
      soci::use(now_us), soci::use(now_us), soci::into(backlog.lease_expired);
  return backlog;
}

absl::StatusOr<NotificationPage> QueryNotifications(soci::session& session,
                                                    const NotificationFilter& filter) {
  const int page_size = ClampPageSize(filter.page_size, 50);
  SqlQuery query(absl::StrCat("SELECT ", kNotificationColumns, " FROM notifications"));
  query.Where(absl::StrCat("recipient = ", query.Bind(filter.recipient)));
  if (filter.unread_only) query.Where("read_us IS NULL");
  if (!filter.page_token.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(std::string below,
                             DecodePageToken("notifications", filter.page_token));
    int64_t below_id = 0;
    if (!absl::SimpleAtoi(below, &below_id)) {
      return absl::InvalidArgumentError("page_token: not a token of this list");
    }
    query.Where(absl::StrCat("id < ", query.Bind(below_id)));
  }
  query.Append(absl::StrCat(" ORDER BY id DESC LIMIT ", query.Bind(int64_t{page_size + 1})));
  NotificationColumns row;
  soci::statement statement =
      query.Prepare(session, soci::into(row.id), soci::into(row.global_seq), soci::into(row.body),
                    soci::into(row.read_us, row.read_indicator));
  statement.execute();
  std::vector<v1::Notification> rows;
  while (statement.fetch()) SIGNOFF_RETURN_IF_ERROR(DecodeNotification(row, rows.emplace_back()));
  Page<v1::Notification> page =
      MakePage(std::move(rows), page_size, "notifications",
               [](const v1::Notification& notification) { return absl::StrCat(notification.id()); });
  NotificationPage result;
  result.notifications = std::move(page.items);
  result.next_page_token = std::move(page.next_page_token);
  session << "SELECT COUNT(*) FROM notifications WHERE recipient = :r AND read_us IS NULL",
      soci::use(filter.recipient), soci::into(result.unread_count);
  return result;
}

absl::StatusOr<CatalogVersions> QueryCatalogVersions(soci::session& session) {
  CatalogVersions versions;
  std::string name;
  int64_t generation = 0;
  soci::statement statement = (session.prepare << "SELECT name, generation FROM catalog_versions",
                               soci::into(name), soci::into(generation));
  statement.execute();
  while (statement.fetch()) {
    if (name == "directory") versions.directory = generation;
    if (name == "calendars") versions.calendars = generation;
    if (name == "definitions") versions.definitions = generation;
  }
  return versions;
}

}  // namespace signoff::storage
