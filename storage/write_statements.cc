#include "storage/write_statements.h"

#include <soci/soci.h>

#include <stdexcept>

#include "storage/dialect.h"
#include "storage/prepared_statement.h"


namespace signoff::storage {
namespace {

soci::indicator NullIfEmpty(const std::string& value) {
  return value.empty() ? soci::i_null : soci::i_ok;
}

}  // namespace

struct WriteStatements::Bound {
  Bound(soci::session& session, const Dialect& dialect)
      : dialect(dialect),
        savepoint(session.prepare << "SAVEPOINT mutation"),
        release(session.prepare << "RELEASE SAVEPOINT mutation"),
        rollback_to(session.prepare << "ROLLBACK TO SAVEPOINT mutation"),
        insert_idempotency(
            (session.prepare << "INSERT INTO idempotency (caller, request_id, method,"
                                " fingerprint, reply, created_us)"
                                " VALUES (:c, :r, :m, :f, " + dialect.BodyParameter(":b") +
                                ", :t) ON CONFLICT DO NOTHING",
             soci::use(idempotency.caller), soci::use(idempotency.request_id),
             soci::use(idempotency.method), soci::use(idempotency.fingerprint),
             soci::use(idempotency.reply), soci::use(idempotency.created_us))),
        find_head((session.prepare << "SELECT version, event_count, chain_head FROM instances"
                                      " WHERE id = :i",
                   soci::use(key), soci::into(head.version), soci::into(head.event_count),
                   soci::into(head.chain_head))),
        find_subject_holder(
            (session.prepare << "SELECT id FROM instances WHERE open_subject = :s AND id <> :i",
             soci::use(subject), soci::use(key), soci::into(holder))),
        insert_instance(
            (session.prepare
                 << "INSERT INTO instances (id, definition_key, definition_version, status,"
                    " applicant, subject, open_subject, version, state, created_us, updated_us,"
                    " sla_breached, event_count, chain_head, outcome)"
                    " VALUES (:i, :dk, :dv, :st, :a, :s, :o, :v, " + dialect.BodyParameter(":j") +
                    ", :c, :u, :b, :n, :h, :oc)",
             soci::use(instance.id), soci::use(instance.definition_key),
             soci::use(instance.definition_version), soci::use(instance.status),
             soci::use(instance.applicant), soci::use(instance.subject),
             soci::use(instance.open_subject, open_subject_indicator),
             soci::use(instance.version), soci::use(instance.state),
             soci::use(instance.created_us), soci::use(instance.updated_us),
             soci::use(instance.sla_breached), soci::use(instance.event_count),
             soci::use(instance.chain_head), soci::use(instance.outcome))),
        update_instance(
            (session.prepare << "UPDATE instances SET status = :st, open_subject = :o,"
                                " version = :v, state = " + dialect.BodyParameter(":j") +
                                ", updated_us = :u, sla_breached = :b,"
                                " event_count = :n, chain_head = :h, outcome = :oc"
                                " WHERE id = :i AND version = :e",
             soci::use(instance.status), soci::use(instance.open_subject, open_subject_indicator),
             soci::use(instance.version), soci::use(instance.state),
             soci::use(instance.updated_us), soci::use(instance.sla_breached),
             soci::use(instance.event_count), soci::use(instance.chain_head),
             soci::use(instance.outcome), soci::use(instance.id),
             soci::use(expected_version))),
        update_chain_head(
            (session.prepare << "UPDATE instances SET event_count = :n, chain_head = :h"
                                " WHERE id = :i AND event_count = :e",
             soci::use(instance.event_count), soci::use(instance.chain_head),
             soci::use(instance.id), soci::use(expected_version))),
        insert_event(
            (session.prepare << "INSERT INTO events (instance_id, instance_seq, type, time_us,"
                                " actor, body, prev_hash, hash)"
                                " VALUES (:i, :n, :ty, :t, :a, " + dialect.BodyParameter(":b") +
                                ", :p, :h) RETURNING global_seq",
             soci::use(event.instance_id), soci::use(event.instance_seq), soci::use(event.type),
             soci::use(event.time_us), soci::use(event.actor), soci::use(event.body),
             soci::use(event.prev_hash), soci::use(event.hash), soci::into(global_seq))),
        upsert_task(
            (session.prepare
                 << "INSERT INTO tasks (id, instance_id, step_id, status, assignee,"
                    " candidate_role, candidate_department, created_us, body, due_us)"
                    " VALUES (:i, :n, :s, :st, :a, :r, :d, :c, " + dialect.BodyParameter(":b") +
                    ", :due)"
                    " ON CONFLICT (id) DO UPDATE SET instance_id = excluded.instance_id,"
                    " step_id = excluded.step_id, status = excluded.status,"
                    " assignee = excluded.assignee, candidate_role = excluded.candidate_role,"
                    " candidate_department = excluded.candidate_department,"
                    " created_us = excluded.created_us, body = excluded.body,"
                    " due_us = excluded.due_us",
             soci::use(task.id), soci::use(task.instance_id), soci::use(task.step_id),
             soci::use(task.status), soci::use(task.assignee), soci::use(task.candidate_role),
             soci::use(task.candidate_department), soci::use(task.created_us),
             soci::use(task.body), soci::use(due_us, due_indicator))),
        upsert_timer(
            (session.prepare << "INSERT INTO timers (id, instance_id, kind, token, step_id,"
                                " fire_us) VALUES (:i, :n, :k, :t, :s, :f)"
                                " ON CONFLICT (id) DO UPDATE SET fire_us = excluded.fire_us,"
                                " lease_owner = NULL, lease_until_us = NULL",
             soci::use(timer.id), soci::use(timer.instance_id), soci::use(timer.kind),
             soci::use(timer.token), soci::use(timer.step_id), soci::use(timer.fire_us))),
        delete_timer((session.prepare << "DELETE FROM timers WHERE id = :i", soci::use(key))),
        insert_access(
            (session.prepare << "INSERT INTO instance_access (instance_id, principal, kind)"
                                " VALUES (:i, :p, :k) ON CONFLICT DO NOTHING",
             soci::use(key), soci::use(principal), soci::use(access_kind))),
        insert_notification(
            (session.prepare << "INSERT INTO notifications (global_seq, recipient, instance_id,"
                                " kind, created_us, body) VALUES (:g, :r, :i, :k, :c, " +
                                    dialect.BodyParameter(":b") + ")",
             soci::use(notification.global_seq), soci::use(notification.recipient),
             soci::use(notification.instance_id), soci::use(notification.kind),
             soci::use(notification.created_us), soci::use(notification.body))) {}

  const Dialect& dialect;
  // The values the statements below are bound to; declared first so that
  // they outlive the statements.
  IdempotencyRow idempotency;
  InstanceRow instance;
  soci::indicator open_subject_indicator = soci::i_null;
  int64_t expected_version = 0;
  InstanceHead head;
  std::string key;
  std::string subject;
  std::string holder;
  EventRow event;
  int64_t global_seq = 0;
  TaskRow task;
  int64_t due_us = 0;
  soci::indicator due_indicator = soci::i_null;
  TimerRow timer;
  std::string principal;
  int access_kind = 0;
  NotificationRow notification;

  soci::statement savepoint;
  soci::statement release;
  soci::statement rollback_to;
  soci::statement insert_idempotency;
  soci::statement find_head;
  soci::statement find_subject_holder;
  soci::statement insert_instance;
  soci::statement update_instance;
  soci::statement update_chain_head;
  soci::statement insert_event;
  soci::statement upsert_task;
  soci::statement upsert_timer;
  soci::statement delete_timer;
  soci::statement insert_access;
  soci::statement insert_notification;
};

WriteStatements::WriteStatements(soci::session& session, const Dialect& dialect)
    : bound_(std::make_unique<Bound>(session, dialect)) {}

WriteStatements::~WriteStatements() = default;

void WriteStatements::Savepoint() { bound_->savepoint.execute(true); }
void WriteStatements::ReleaseSavepoint() { bound_->release.execute(true); }
void WriteStatements::RollbackToSavepoint() { bound_->rollback_to.execute(true); }

bool WriteStatements::InsertIdempotency(const IdempotencyRow& row) {
  bound_->idempotency = row;
  bound_->dialect.PrepareBodyValue(&bound_->idempotency.reply);
  bound_->insert_idempotency.execute(true);
  return bound_->insert_idempotency.get_affected_rows() > 0;
}

std::optional<InstanceHead> WriteStatements::FindInstanceHead(const std::string& instance_id) {
  bound_->key = instance_id;
  if (!RunForOneRow(bound_->find_head)) return std::nullopt;
  return bound_->head;
}

std::optional<std::string> WriteStatements::FindSubjectHolder(const std::string& subject,
                                                              const std::string& instance_id) {
  bound_->subject = subject;
  bound_->key = instance_id;
  if (!RunForOneRow(bound_->find_subject_holder)) return std::nullopt;
  return bound_->holder;
}

void WriteStatements::InsertInstance(InstanceRow row) {
  bound_->open_subject_indicator = NullIfEmpty(row.open_subject);
  bound_->instance = std::move(row);
  bound_->dialect.PrepareBodyValue(&bound_->instance.state);
  bound_->insert_instance.execute(true);
}

bool WriteStatements::UpdateInstance(InstanceRow row, int64_t expected_version) {
  bound_->open_subject_indicator = NullIfEmpty(row.open_subject);
  bound_->instance = std::move(row);
  bound_->dialect.PrepareBodyValue(&bound_->instance.state);
  bound_->expected_version = expected_version;
  bound_->update_instance.execute(true);
  return bound_->update_instance.get_affected_rows() > 0;
}

bool WriteStatements::UpdateChainHead(const std::string& instance_id, int64_t expected_count,
                                      int64_t event_count, const std::string& chain_head) {
  bound_->instance.id = instance_id;
  bound_->instance.event_count = event_count;
  bound_->instance.chain_head = chain_head;
  bound_->expected_version = expected_count;
  bound_->update_chain_head.execute(true);
  return bound_->update_chain_head.get_affected_rows() > 0;
}

int64_t WriteStatements::InsertEvent(EventRow row) {
  bound_->event = std::move(row);
  bound_->dialect.PrepareBodyValue(&bound_->event.body);
  if (!RunForOneRow(bound_->insert_event)) {
    throw std::runtime_error("an event insert returned no global_seq");
  }
  return bound_->global_seq;
}

void WriteStatements::UpsertTask(TaskRow row) {
  bound_->due_us = row.due_us.value_or(0);
  bound_->due_indicator = row.due_us ? soci::i_ok : soci::i_null;
  bound_->task = std::move(row);
  bound_->dialect.PrepareBodyValue(&bound_->task.body);
  bound_->upsert_task.execute(true);
}

void WriteStatements::UpsertTimer(const TimerRow& row) {
  bound_->timer = row;
  bound_->upsert_timer.execute(true);
}

void WriteStatements::DeleteTimer(const std::string& id) {
  bound_->key = id;
  bound_->delete_timer.execute(true);
}

void WriteStatements::InsertAccessGrant(const std::string& instance_id,
                                        const std::string& principal, int kind) {
  bound_->key = instance_id;
  bound_->principal = principal;
  bound_->access_kind = kind;
  bound_->insert_access.execute(true);
}

void WriteStatements::InsertNotification(NotificationRow row) {
  bound_->notification = std::move(row);
  bound_->dialect.PrepareBodyValue(&bound_->notification.body);
  bound_->insert_notification.execute(true);
}

}  // namespace signoff::storage
