// The write side of SociStore: what one Mutation does to the tables.

#include <soci/soci.h>

#include <algorithm>
#include <map>

#include "absl/strings/escaping.h"
#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/codec.h"
#include "storage/documents.h"
#include "storage/event_chain.h"
#include "storage/mutation_writer.h"
#include "storage/queries.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

using signoff::v1::Department;
using signoff::v1::Event;
using signoff::v1::InstanceState;
using signoff::v1::Task;
using signoff::v1::User;

// The oneof case name, which Event.type documents as its value.
std::string EventBodyType(const Event& event) {
  const auto* oneof = Event::descriptor()->FindOneofByName("body");
  const auto* field = Event::GetReflection()->GetOneofFieldDescriptor(event, oneof);
  return field == nullptr ? std::string() : field->name();
}

struct ChainHead {
  int64_t seq = 0;
  std::string hash;
};

class MutationApplier {
 public:
  MutationApplier(soci::session& session, const Dialect& dialect, const Mutation& mutation)
      : session_(session), dialect_(dialect), mutation_(mutation) {}

  absl::StatusOr<CommitResult> Apply() {
    if (mutation_.idempotency) {
      SIGNOFF_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> existing,
                       QueryIdempotency(session_, mutation_.idempotency->caller,
                                                        mutation_.idempotency->request_id));
      if (existing) return DuplicateOf(std::move(*existing));
      SIGNOFF_RETURN_IF_ERROR(InsertIdempotency(*mutation_.idempotency));
    }
    CommitResult result;
    SIGNOFF_RETURN_IF_ERROR(ApplyDefinitionAndDirectory(&result));
    SIGNOFF_RETURN_IF_ERROR(ApplyInstanceEventsAndTasks(&result));
    SIGNOFF_RETURN_IF_ERROR(ApplyTimers());
    if (mutation_.timer_claim) {
      SIGNOFF_ASSIGN_OR_RETURN(result.claimed_timers, ClaimTimers(*mutation_.timer_claim));
    }
    return result;
  }

 private:
  static CommitResult DuplicateOf(IdempotencyRecord existing) {
    CommitResult result;
    result.duplicate_request = true;
    result.existing = std::move(existing);
    return result;
  }

  absl::Status ApplyDefinitionAndDirectory(CommitResult* result) {
    if (mutation_.definition) {
      SIGNOFF_ASSIGN_OR_RETURN(DocumentRow row, RowOf(*mutation_.definition));
      SIGNOFF_ASSIGN_OR_RETURN(result->definition_version,
                               InsertDocument(session_, DocumentKind::kDefinition, row));
    }
    if (mutation_.calendar) {
      SIGNOFF_ASSIGN_OR_RETURN(DocumentRow row, RowOf(*mutation_.calendar));
      SIGNOFF_ASSIGN_OR_RETURN(result->calendar_version,
                               InsertDocument(session_, DocumentKind::kCalendar, row));
    }
    for (const Department& department : mutation_.departments) {
      SIGNOFF_RETURN_IF_ERROR(UpsertDepartment(department));
    }
    for (const User& user : mutation_.users) SIGNOFF_RETURN_IF_ERROR(UpsertUser(user));
    return absl::OkStatus();
  }

  absl::Status ApplyInstanceEventsAndTasks(CommitResult* result) {
    if (mutation_.instance) SIGNOFF_RETURN_IF_ERROR(WriteInstance(*mutation_.instance));
    std::map<std::string, ChainHead> heads;
    for (const Event& event : mutation_.events) {
      const std::string instance_id = InstanceIdOr(event.instance_id());
      auto head = heads.find(instance_id);
      if (head == heads.end()) head = heads.emplace(instance_id, LoadChainHead(instance_id)).first;
      SIGNOFF_ASSIGN_OR_RETURN(Event stored, AppendEvent(event, head->second));
      result->events.push_back(std::move(stored));
    }
    for (const auto& [instance_id, head] : heads) StoreChainHead(instance_id, head);
    for (const Task& task : mutation_.tasks) SIGNOFF_RETURN_IF_ERROR(UpsertTask(task));
    return absl::OkStatus();
  }

  // Events and tasks may leave instance_id empty to mean the mutation's
  // instance.
  std::string InstanceIdOr(const std::string& id) const {
    if (!id.empty() || !mutation_.instance) return id;
    return mutation_.instance->id();
  }

  absl::Status InsertIdempotency(const IdempotencyRecord& record) {
    if (record.request_id.empty()) {
      return absl::InvalidArgumentError("idempotency record has no request_id");
    }
    const std::string reply = absl::Base64Escape(record.reply);
    const int64_t now = NowMicros();
    session_ << "INSERT INTO idempotency (caller, request_id, method, fingerprint, reply,"
                " created_us) VALUES (:c, :r, :m, :f, :b, :t)",
        soci::use(record.caller), soci::use(record.request_id), soci::use(record.method),
        soci::use(record.fingerprint), soci::use(reply), soci::use(now);
    return absl::OkStatus();
  }

  absl::Status ApplyTimers() {
    for (const std::string& id : mutation_.timers_removed) {
      session_ << "DELETE FROM timers WHERE id = :i", soci::use(id);
    }
    for (const signoff::v1::Timer& timer : mutation_.timers_set) {
      const std::string instance_id = InstanceIdOr("");
      if (timer.id().empty() || instance_id.empty()) {
        return absl::InvalidArgumentError("a timer needs an id and the mutation's instance");
      }
      const int kind = timer.kind();
      const int64_t fire_us = workflow::ToUnixMicros(timer.fire_at());
      session_ << "INSERT INTO timers (id, instance_id, kind, token, step_id, fire_us)"
                  " VALUES (:i, :n, :k, :t, :s, :f)"
                  " ON CONFLICT (id) DO UPDATE SET fire_us = excluded.fire_us,"
                  " lease_owner = NULL, lease_until_us = NULL",
          soci::use(timer.id()), soci::use(instance_id), soci::use(kind),
          soci::use(timer.token()), soci::use(timer.step_id()), soci::use(fire_us);
    }
    return absl::OkStatus();
  }

  absl::StatusOr<std::vector<ClaimedTimer>> ClaimTimers(const TimerClaim& claim) {
    const int64_t now_us = absl::ToUnixMicros(claim.now);
    const int64_t lease_until_us = absl::ToUnixMicros(claim.now + claim.lease);
    const int limit = std::max(1, claim.limit);
    std::vector<ClaimedTimer> claimed;
    ClaimedTimer row;
    int kind = 0;
    int64_t fire_us = 0;
    std::string id, token, step_id;
    soci::statement select =
        (session_.prepare << "SELECT id, instance_id, kind, token, step_id, fire_us FROM timers"
                             " WHERE fire_us <= :now AND (lease_until_us IS NULL OR"
                             " lease_until_us < :now2) ORDER BY fire_us, id LIMIT :n" +
                                 dialect_.LockSkipLockedClause(),
         soci::use(now_us), soci::use(now_us), soci::use(limit), soci::into(id),
         soci::into(row.instance_id), soci::into(kind), soci::into(token), soci::into(step_id),
         soci::into(fire_us));
    select.execute();
    while (select.fetch()) {
      row.timer.set_id(id);
      row.timer.set_kind(static_cast<signoff::v1::TimerKind>(kind));
      row.timer.set_token(token);
      row.timer.set_step_id(step_id);
      *row.timer.mutable_fire_at() = workflow::FromUnixMicros(fire_us);
      claimed.push_back(row);
    }
    for (const ClaimedTimer& timer : claimed) {
      session_ << "UPDATE timers SET lease_owner = :o, lease_until_us = :l WHERE id = :i",
          soci::use(claim.owner), soci::use(lease_until_us), soci::use(timer.timer.id());
    }
    return claimed;
  }

  absl::Status UpsertDepartment(const Department& department) {
    if (department.id().empty()) return absl::InvalidArgumentError("department has no id");
    SIGNOFF_ASSIGN_OR_RETURN(const std::string body, ToJson(department));
    session_ << "INSERT INTO departments (id, parent, head, body) VALUES (:i, :p, :h, :b)"
                " ON CONFLICT (id) DO UPDATE SET parent = excluded.parent,"
                " head = excluded.head, body = excluded.body",
        soci::use(department.id()), soci::use(department.parent()),
        soci::use(department.head()), soci::use(body);
    return absl::OkStatus();
  }

  absl::Status UpsertUser(const User& user) {
    if (user.id().empty()) return absl::InvalidArgumentError("user has no id");
    SIGNOFF_ASSIGN_OR_RETURN(const std::string body, ToJson(user));
    session_ << "INSERT INTO users (id, department, manager, body) VALUES (:i, :d, :m, :b)"
                " ON CONFLICT (id) DO UPDATE SET department = excluded.department,"
                " manager = excluded.manager, body = excluded.body",
        soci::use(user.id()), soci::use(user.department()), soci::use(user.manager()),
        soci::use(body);
    ReplaceRoles(user);
    return absl::OkStatus();
  }

  void ReplaceRoles(const User& user) {
    session_ << "DELETE FROM user_roles WHERE user_id = :u", soci::use(user.id());
    for (const signoff::v1::RoleGrant& grant : user.roles()) {
      const std::string& department =
          grant.department().empty() ? user.department() : grant.department();
      session_ << "INSERT INTO user_roles (user_id, role, department) VALUES (:u, :r, :d)"
                  " ON CONFLICT DO NOTHING",
          soci::use(user.id()), soci::use(grant.role()), soci::use(department);
    }
  }

  absl::Status WriteInstance(const InstanceState& instance) {
    SIGNOFF_RETURN_IF_ERROR(CheckInstanceVersion(instance));
    SIGNOFF_RETURN_IF_ERROR(CheckSubjectFree(instance.id()));
    SIGNOFF_ASSIGN_OR_RETURN(const std::string state, ToJson(instance));
    try {
      if (mutation_.expected_version == 0) return InsertInstance(instance, state);
      return UpdateInstance(instance, state);
    } catch (const std::exception& error) {
      // Another replica wrote between our checks and our write.
      if (!dialect_.IsUniqueViolation(error)) throw;
      if (absl::StrContains(error.what(), "open_subject")) {
        return SubjectHeldError("another instance");
      }
      return absl::AbortedError(
          absl::StrCat("instance ", instance.id(), " changed concurrently"));
    }
  }

  absl::Status CheckInstanceVersion(const InstanceState& instance) const {
    if (instance.id().empty()) return absl::InvalidArgumentError("instance has no id");
    if (instance.version() != mutation_.expected_version + 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "instance ", instance.id(), " is stored with version ", instance.version(),
          " but a commit expecting version ", mutation_.expected_version,
          " must store version ", mutation_.expected_version + 1));
    }
    return absl::OkStatus();
  }

  absl::Status CheckSubjectFree(const std::string& instance_id) {
    if (mutation_.open_subject_key.empty()) return absl::OkStatus();
    std::string holder;
    session_ << "SELECT id FROM instances WHERE open_subject = :s AND id <> :i",
        soci::use(mutation_.open_subject_key), soci::use(instance_id), soci::into(holder);
    if (!session_.got_data()) return absl::OkStatus();
    return SubjectHeldError(absl::StrCat("instance ", holder));
  }

  absl::Status SubjectHeldError(const std::string& holder) const {
    return absl::AlreadyExistsError(absl::StrCat("subject ", mutation_.open_subject_key,
                                                 " already has an open instance (",
                                                 holder, ")"));
  }

  absl::Status InsertInstance(const InstanceState& instance, const std::string& state) {
    int found = 0;
    session_ << "SELECT COUNT(*) FROM instances WHERE id = :i", soci::use(instance.id()),
        soci::into(found);
    if (found > 0) {
      return absl::AbortedError(
          absl::StrCat("instance ", instance.id(), " already exists"));
    }
    std::string open_subject = mutation_.open_subject_key;
    soci::indicator open_subject_ind = open_subject.empty() ? soci::i_null : soci::i_ok;
    const int status = instance.status();
    const int64_t created_us = workflow::ToUnixMicros(instance.created_at());
    const int64_t updated_us = workflow::ToUnixMicros(instance.updated_at());
    const int breached = instance.sla_breached() ? 1 : 0;
    session_ << "INSERT INTO instances (id, definition_key, definition_version, status,"
                " applicant, subject, open_subject, version, state, created_us, updated_us,"
                " sla_breached)"
                " VALUES (:i, :dk, :dv, :st, :a, :s, :o, :v, :j, :c, :u, :b)",
        soci::use(instance.id()), soci::use(instance.definition_key()),
        soci::use(instance.definition_version()), soci::use(status),
        soci::use(instance.applicant()), soci::use(instance.subject()),
        soci::use(open_subject, open_subject_ind), soci::use(instance.version()),
        soci::use(state), soci::use(created_us), soci::use(updated_us), soci::use(breached);
    return absl::OkStatus();
  }

  absl::Status UpdateInstance(const InstanceState& instance, const std::string& state) {
    std::string open_subject = mutation_.open_subject_key;
    soci::indicator open_subject_ind = open_subject.empty() ? soci::i_null : soci::i_ok;
    const int status = instance.status();
    const int64_t updated_us = workflow::ToUnixMicros(instance.updated_at());
    const int breached = instance.sla_breached() ? 1 : 0;
    soci::statement update =
        (session_.prepare << "UPDATE instances SET status = :st, open_subject = :o,"
                             " version = :v, state = :j, updated_us = :u, sla_breached = :b"
                             " WHERE id = :i AND version = :e",
         soci::use(status), soci::use(open_subject, open_subject_ind),
         soci::use(instance.version()), soci::use(state), soci::use(updated_us),
         soci::use(breached),
         soci::use(instance.id()), soci::use(mutation_.expected_version));
    update.execute(true);
    if (update.get_affected_rows() == 0) {
      return absl::AbortedError(
          absl::StrCat("instance ", instance.id(), " changed concurrently"));
    }
    return absl::OkStatus();
  }

  // Appends `event` after `head`, and moves `head` on to it.
  absl::StatusOr<Event> AppendEvent(const Event& event, ChainHead& head) {
    Event stored = event;
    stored.set_instance_id(InstanceIdOr(event.instance_id()));
    if (stored.instance_id().empty()) {
      return absl::InvalidArgumentError("event has no instance_id");
    }
    if (stored.type().empty()) stored.set_type(EventBodyType(stored));
    stored.clear_global_seq();
    stored.clear_hash();
    stored.clear_prev_hash();
    stored.set_instance_seq(head.seq + 1);
    SIGNOFF_ASSIGN_OR_RETURN(const std::string body, ToJson(stored));
    stored.set_prev_hash(head.hash);
    stored.set_hash(ComputeEventHash(stored));
    stored.set_global_seq(InsertEvent(stored, body));
    head = ChainHead{stored.instance_seq(), stored.hash()};
    return stored;
  }

  // Read from the instance row, which an earlier mutation of the same batch
  // has already moved on. No row reads as an empty chain; the event insert
  // then fails on its reference.
  ChainHead LoadChainHead(const std::string& instance_id) {
    ChainHead head;
    session_ << "SELECT event_count, chain_head FROM instances WHERE id = :i",
        soci::use(instance_id), soci::into(head.seq), soci::into(head.hash);
    if (!session_.got_data()) return ChainHead{};
    return head;
  }

  void StoreChainHead(const std::string& instance_id, const ChainHead& head) {
    session_ << "UPDATE instances SET event_count = :n, chain_head = :h WHERE id = :i",
        soci::use(head.seq), soci::use(head.hash), soci::use(instance_id);
  }

  int64_t InsertEvent(const Event& event, const std::string& body) {
    const int64_t time_us = workflow::ToUnixMicros(event.time());
    int64_t global_seq = 0;
    session_ << "INSERT INTO events (instance_id, instance_seq, type, time_us, actor, body,"
                " prev_hash, hash) VALUES (:i, :n, :ty, :t, :a, :b, :p, :h)"
                " RETURNING global_seq",
        soci::use(event.instance_id()), soci::use(event.instance_seq()),
        soci::use(event.type()), soci::use(time_us), soci::use(event.actor()),
        soci::use(body), soci::use(event.prev_hash()), soci::use(event.hash()),
        soci::into(global_seq);
    return global_seq;
  }

  absl::Status UpsertTask(const Task& task) {
    Task stored = task;
    stored.set_instance_id(InstanceIdOr(task.instance_id()));
    if (stored.id().empty() || stored.instance_id().empty()) {
      return absl::InvalidArgumentError("task needs an id and an instance_id");
    }
    // Overdue is computed when a task is read, never stored.
    stored.clear_overdue();
    SIGNOFF_ASSIGN_OR_RETURN(const std::string body, ToJson(stored));
    const int status = stored.status();
    const int64_t created_us = workflow::ToUnixMicros(stored.created_at());
    int64_t due_us = stored.has_due_at() ? workflow::ToUnixMicros(stored.due_at()) : 0;
    soci::indicator due_ind = stored.has_due_at() ? soci::i_ok : soci::i_null;
    session_ << "INSERT INTO tasks (id, instance_id, step_id, status, assignee,"
                " candidate_role, candidate_department, created_us, body, due_us)"
                " VALUES (:i, :n, :s, :st, :a, :r, :d, :c, :b, :due)"
                " ON CONFLICT (id) DO UPDATE SET instance_id = excluded.instance_id,"
                " step_id = excluded.step_id, status = excluded.status,"
                " assignee = excluded.assignee, candidate_role = excluded.candidate_role,"
                " candidate_department = excluded.candidate_department,"
                " created_us = excluded.created_us, body = excluded.body,"
                " due_us = excluded.due_us",
        soci::use(stored.id()), soci::use(stored.instance_id()), soci::use(stored.step_id()),
        soci::use(status), soci::use(stored.assignee()),
        soci::use(stored.candidate_group().role()),
        soci::use(stored.candidate_group().department()), soci::use(created_us),
        soci::use(body), soci::use(due_us, due_ind);
    return absl::OkStatus();
  }

  soci::session& session_;
  const Dialect& dialect_;
  const Mutation& mutation_;
};

}  // namespace

absl::StatusOr<CommitResult> ApplyMutation(soci::session& session, const Dialect& dialect,
                                           const Mutation& mutation) {
  return MutationApplier(session, dialect, mutation).Apply();
}

}  // namespace signoff::storage
