// The write side of SociStore: what one mutation does to the tables.

#include <soci/soci.h>

#include <algorithm>
#include <map>
#include <set>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "storage/attachment_store.h"
#include "storage/codec.h"
#include "storage/documents.h"
#include "storage/event_chain.h"
#include "storage/job_writes.h"
#include "storage/ledger_store.h"
#include "storage/mutation_writer.h"
#include "storage/queries.h"
#include "storage/report_store.h"
#include "storage/sql_query.h"
#include "storage/webhook_store.h"
#include "workflow/access.h"
#include "workflow/directory.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

using signoff::v1::Department;
using signoff::v1::Event;
using signoff::v1::InstanceState;
using signoff::v1::Task;
using signoff::v1::User;

struct ChainHead {
  int64_t seq = 0;
  std::string hash;
};

InstanceRow InstanceRowOf(const InstanceState& instance, const std::string& open_subject,
                  const std::string& state, const ChainHead& head) {
  InstanceRow row;
  row.id = instance.id();
  row.definition_key = instance.definition_key();
  row.definition_version = instance.definition_version();
  row.status = instance.status();
  row.applicant = instance.applicant();
  row.subject = instance.subject();
  row.open_subject = open_subject;
  row.version = instance.version();
  row.state = state;
  row.created_us = workflow::ToUnixMicros(instance.created_at());
  row.updated_us = workflow::ToUnixMicros(instance.updated_at());
  row.sla_breached = instance.sla_breached() ? 1 : 0;
  row.outcome = instance.outcome();
  row.event_count = head.seq;
  row.chain_head = head.hash;
  return row;
}

TaskRow TaskRowOf(const Task& task, const std::string& body) {
  TaskRow row;
  row.id = task.id();
  row.instance_id = task.instance_id();
  row.step_id = task.step_id();
  row.status = task.status();
  row.assignee = task.assignee();
  row.candidate_role = task.candidate_group().role();
  row.candidate_department = task.candidate_group().department();
  row.created_us = workflow::ToUnixMicros(task.created_at());
  row.body = body;
  if (task.has_due_at()) row.due_us = workflow::ToUnixMicros(task.due_at());
  return row;
}

EventRow EventRowOf(const Event& event, const std::string& body) {
  EventRow row;
  row.instance_id = event.instance_id();
  row.instance_seq = event.instance_seq();
  row.type = event.type();
  row.time_us = workflow::ToUnixMicros(event.time());
  row.actor = event.actor();
  row.body = body;
  row.prev_hash = event.prev_hash();
  row.hash = event.hash();
  return row;
}

class MutationApplier {
 public:
  MutationApplier(soci::session& session, const Dialect& dialect, WriteStatements& statements,
                  const EncodedMutation& encoded)
      : session_(session),
        dialect_(dialect),
        statements_(statements),
        encoded_(encoded),
        mutation_(encoded.mutation) {}

  absl::StatusOr<CommitResult> Apply() {
    if (mutation_.idempotency) {
      SIGNOFF_ASSIGN_OR_RETURN(bool first, InsertIdempotency(*mutation_.idempotency));
      if (!first) return DuplicateOf(*mutation_.idempotency);
    }
    if (mutation_.job_lease) {
      SIGNOFF_RETURN_IF_ERROR(CheckJobLease(session_, dialect_, *mutation_.job_lease));
    }
    CommitResult result;
    SIGNOFF_RETURN_IF_ERROR(ApplyDefinitionAndDirectory(&result));
    SIGNOFF_RETURN_IF_ERROR(ApplyInstanceEventsAndTasks(&result));
    RecordJobEvents(session_, mutation_.events);
    ApplyTimers();
    if (mutation_.timer_claim) {
      SIGNOFF_ASSIGN_OR_RETURN(result.claimed_timers, ClaimTimers(*mutation_.timer_claim));
    }
    if (mutation_.notification_reads) {
      result.notifications_marked = MarkNotificationsRead(*mutation_.notification_reads);
    }
    if (!mutation_.webhooks.empty()) {
      SIGNOFF_ASSIGN_OR_RETURN(result.webhooks,
                               ApplyWebhookWrites(session_, dialect_, mutation_.webhooks));
    }
    if (!mutation_.ledgers.empty()) {
      SIGNOFF_RETURN_IF_ERROR(ApplyLedgerWrites(session_, mutation_.ledgers));
    }
    if (!mutation_.reports.empty()) {
      SIGNOFF_RETURN_IF_ERROR(ApplyReportWrites(session_, mutation_.reports));
    }
    if (!mutation_.attachments.empty()) {
      SIGNOFF_RETURN_IF_ERROR(ApplyAttachmentWrites(session_, dialect_, mutation_.attachments));
    }
    if (mutation_.job_claim) {
      result.activated_jobs = ClaimJobs(session_, dialect_, *mutation_.job_claim);
    }
    return result;
  }

 private:
  absl::StatusOr<CommitResult> DuplicateOf(const IdempotencyRecord& record) {
    SIGNOFF_ASSIGN_OR_RETURN(std::optional<IdempotencyRecord> existing,
                             QueryIdempotency(session_, record.caller, record.request_id));
    if (!existing) {
      return absl::InternalError("a request_id was both taken and missing in one transaction");
    }
    CommitResult result;
    result.duplicate_request = true;
    result.existing = std::move(*existing);
    return result;
  }

  absl::StatusOr<bool> InsertIdempotency(const IdempotencyRecord& record) {
    if (record.request_id.empty()) {
      return absl::InvalidArgumentError("idempotency record has no request_id");
    }
    return statements_.InsertIdempotency(IdempotencyRow{record.caller, record.request_id,
                                                        record.method, record.fingerprint,
                                                        record.reply, NowMicros()});
  }

  absl::Status ApplyDefinitionAndDirectory(CommitResult* result) {
    if (mutation_.definition) {
      SIGNOFF_ASSIGN_OR_RETURN(DocumentRow row, RowOf(*mutation_.definition));
      SIGNOFF_ASSIGN_OR_RETURN(result->definition_version,
                               InsertDocument(session_, dialect_, DocumentKind::kDefinition, row));
    }
    if (mutation_.calendar) {
      SIGNOFF_ASSIGN_OR_RETURN(DocumentRow row, RowOf(*mutation_.calendar));
      SIGNOFF_ASSIGN_OR_RETURN(result->calendar_version,
                               InsertDocument(session_, dialect_, DocumentKind::kCalendar, row));
    }
    for (size_t i = 0; i < mutation_.departments.size(); ++i) {
      SIGNOFF_RETURN_IF_ERROR(
          UpsertDepartment(mutation_.departments[i], encoded_.department_bodies[i]));
    }
    for (size_t i = 0; i < mutation_.users.size(); ++i) {
      SIGNOFF_RETURN_IF_ERROR(UpsertUser(mutation_.users[i], encoded_.user_bodies[i]));
    }
    for (size_t i = 0; i < mutation_.delegations.size(); ++i) {
      SIGNOFF_RETURN_IF_ERROR(
          UpsertDelegation(mutation_.delegations[i], encoded_.delegation_bodies[i]));
    }
    for (const std::string& id : mutation_.delegations_removed) {
      session_ << "DELETE FROM delegations WHERE id = :i", soci::use(id);
    }
    if (mutation_.definition) MoveCatalogOn("definitions");
    if (mutation_.calendar) MoveCatalogOn("calendars");
    if (!mutation_.users.empty() || !mutation_.departments.empty() ||
        !mutation_.delegations.empty() || !mutation_.delegations_removed.empty()) {
      MoveCatalogOn("directory");
    }
    // After the directory's version row is taken: a replica setting another
    // delegation waits on that row, and the check reads what it committed.
    for (const signoff::v1::Delegation& delegation : mutation_.delegations) {
      SIGNOFF_RETURN_IF_ERROR(RefuseOverlap(delegation));
    }
    return absl::OkStatus();
  }

  absl::Status RefuseOverlap(const signoff::v1::Delegation& delegation) {
    SqlQuery query("SELECT body FROM delegations");
    query.Where(absl::StrCat("delegator = ", query.Bind(delegation.delegator())));
    SIGNOFF_ASSIGN_OR_RETURN(std::vector<signoff::v1::Delegation> given,
                             FetchBodyRows<signoff::v1::Delegation>(session_, query));
    if (const signoff::v1::Delegation* conflict =
            workflow::ConflictingDelegation(given, delegation)) {
      return absl::FailedPreconditionError(
          absl::StrCat("delegation ", delegation.id(), " overlaps delegation ", conflict->id(),
                       " of ", delegation.delegator(), " for the same definitions"));
    }
    return absl::OkStatus();
  }

  void MoveCatalogOn(const std::string& catalog) {
    session_ << "UPDATE catalog_versions SET generation = generation + 1 WHERE name = :n",
        soci::use(catalog);
  }

  // The instance is checked before anything of it is written, its events
  // are chained in memory, and the row is then written once with its new
  // chain head.
  absl::Status ApplyInstanceEventsAndTasks(CommitResult* result) {
    std::map<std::string, ChainHead> heads;
    // How many events each other instance had when its head was read.
    std::map<std::string, int64_t> counts_read;
    if (mutation_.instance) {
      SIGNOFF_ASSIGN_OR_RETURN(ChainHead head, CheckInstance(*mutation_.instance));
      heads.emplace(mutation_.instance->id(), head);
    }
    for (const Event& event : mutation_.events) {
      auto head = heads.find(event.instance_id());
      if (head == heads.end()) {
        SIGNOFF_ASSIGN_OR_RETURN(ChainHead loaded, LoadChainHead(event.instance_id()));
        counts_read[event.instance_id()] = loaded.seq;
        head = heads.emplace(event.instance_id(), loaded).first;
      }
      result->events.push_back(Chained(event, head->second));
    }
    if (mutation_.instance) {
      SIGNOFF_RETURN_IF_ERROR(WriteInstance(*mutation_.instance, heads[mutation_.instance->id()]));
    }
    // Another replica may append to these instances too: the head moves
    // only from where it was read.
    for (const auto& [instance_id, count_read] : counts_read) {
      const ChainHead& head = heads[instance_id];
      if (!statements_.UpdateChainHead(instance_id, count_read, head.seq, head.hash)) {
        return absl::AbortedError(
            absl::StrCat("instance ", instance_id, " gained events concurrently"));
      }
    }
    // The events themselves are inserted with the rest of the batch's, last
    // (AppendEvents).
    for (size_t i = 0; i < mutation_.tasks.size(); ++i) {
      statements_.UpsertTask(TaskRowOf(mutation_.tasks[i], encoded_.task_bodies[i]));
    }
    GrantAccess();
    return absl::OkStatus();
  }

  void GrantAccess() {
    std::set<std::pair<std::string, workflow::AccessGrant>> granted;
    for (const Event& event : mutation_.events) {
      for (auto& grant : workflow::AccessGrantsOf(event)) {
        granted.emplace(event.instance_id(), std::move(grant));
      }
    }
    for (const auto& [instance_id, grant] : granted) {
      statements_.InsertAccessGrant(instance_id, grant.principal, static_cast<int>(grant.kind));
    }
  }

  // `event` placed after `head`, with its hash; moves `head` on to it.
  static Event Chained(const Event& event, ChainHead& head) {
    Event stored = event;
    stored.set_instance_seq(head.seq + 1);
    std::string hash = ComputeEventHash(stored, head.hash);
    stored.set_prev_hash(head.hash);
    stored.set_hash(std::move(hash));
    head = ChainHead{stored.instance_seq(), stored.hash()};
    return stored;
  }

  // Events go only to stored instances: a mutation that names another is
  // the caller's mistake, not bad input.
  absl::StatusOr<ChainHead> LoadChainHead(const std::string& instance_id) {
    std::optional<InstanceHead> found = statements_.FindInstanceHead(instance_id);
    if (!found) {
      return absl::InternalError(
          absl::StrCat("events name instance ", instance_id, ", which is not stored"));
    }
    return ChainHead{found->event_count, found->chain_head};
  }

  // The instance's chain head, once the instance is found where the
  // mutation expects it: absent for a start, at expected_version otherwise.
  absl::StatusOr<ChainHead> CheckInstance(const InstanceState& instance) {
    if (instance.version() != mutation_.expected_version + 1) {
      return absl::InvalidArgumentError(absl::StrCat(
          "instance ", instance.id(), " is stored with version ", instance.version(),
          " but a commit expecting version ", mutation_.expected_version,
          " must store version ", mutation_.expected_version + 1));
    }
    std::optional<InstanceHead> found = statements_.FindInstanceHead(instance.id());
    if (mutation_.expected_version == 0 && found) {
      return absl::AbortedError(absl::StrCat("instance ", instance.id(), " already exists"));
    }
    if (mutation_.expected_version != 0 &&
        (!found || found->version != mutation_.expected_version)) {
      return ChangedConcurrently(instance);
    }
    SIGNOFF_RETURN_IF_ERROR(CheckSubjectFree(instance.id()));
    if (!found) return ChainHead{};
    return ChainHead{found->event_count, found->chain_head};
  }

  static absl::Status ChangedConcurrently(const InstanceState& instance) {
    return absl::AbortedError(absl::StrCat("instance ", instance.id(), " changed concurrently"));
  }

  absl::Status CheckSubjectFree(const std::string& instance_id) {
    if (mutation_.open_subject_key.empty()) return absl::OkStatus();
    std::optional<std::string> holder =
        statements_.FindSubjectHolder(mutation_.open_subject_key, instance_id);
    if (!holder) return absl::OkStatus();
    return SubjectHeldError(absl::StrCat("instance ", *holder));
  }

  absl::Status SubjectHeldError(const std::string& holder) const {
    return absl::AlreadyExistsError(absl::StrCat("subject ", mutation_.open_subject_key,
                                                 " already has an open instance (",
                                                 holder, ")"));
  }

  absl::Status WriteInstance(const InstanceState& instance, const ChainHead& head) {
    InstanceRow row = InstanceRowOf(instance, mutation_.open_subject_key, encoded_.instance_body, head);
    try {
      if (mutation_.expected_version == 0) {
        statements_.InsertInstance(std::move(row));
        return absl::OkStatus();
      }
      if (!statements_.UpdateInstance(std::move(row), mutation_.expected_version)) {
        return ChangedConcurrently(instance);
      }
      return absl::OkStatus();
    } catch (const std::exception& error) {
      // Another replica wrote between our checks and our write.
      if (!dialect_.IsUniqueViolation(error)) throw;
      if (dialect_.ViolatesUniqueColumn(error, "instances", "open_subject")) {
        return SubjectHeldError("another instance");
      }
      return ChangedConcurrently(instance);
    }
  }

  void ApplyTimers() {
    for (const std::string& id : mutation_.timers_removed) statements_.DeleteTimer(id);
    for (const signoff::v1::Timer& timer : mutation_.timers_set) {
      statements_.UpsertTimer(TimerRow{timer.id(), mutation_.instance->id(), timer.kind(),
                                       timer.token(), timer.step_id(),
                                       workflow::ToUnixMicros(timer.fire_at())});
    }
  }

  // One statement leases the due timers and returns them, oldest first.
  absl::StatusOr<std::vector<ClaimedTimer>> ClaimTimers(const TimerClaim& claim) {
    const int64_t now_us = absl::ToUnixMicros(claim.now);
    const int64_t lease_until_us = absl::ToUnixMicros(claim.now + claim.lease);
    const int limit = std::max(1, claim.limit);
    std::vector<ClaimedTimer> claimed;
    ClaimedTimer row;
    int kind = 0;
    int64_t fire_us = 0;
    std::string id, token, step_id;
    soci::statement lease =
        (session_.prepare << "UPDATE timers SET lease_owner = :o, lease_until_us = :l"
                             " WHERE id IN (SELECT id FROM timers WHERE fire_us <= :now AND"
                             " (lease_until_us IS NULL OR lease_until_us < :now2)"
                             " ORDER BY fire_us, id LIMIT :n" +
                                 dialect_.LockSkipLockedClause() +
                                 ") RETURNING id, instance_id, kind, token, step_id, fire_us",
         soci::use(claim.owner), soci::use(lease_until_us), soci::use(now_us), soci::use(now_us),
         soci::use(limit), soci::into(id), soci::into(row.instance_id), soci::into(kind),
         soci::into(token), soci::into(step_id), soci::into(fire_us));
    if (lease.execute(true)) {
      do {
        row.timer.set_id(id);
        row.timer.set_kind(static_cast<signoff::v1::TimerKind>(kind));
        row.timer.set_token(token);
        row.timer.set_step_id(step_id);
        *row.timer.mutable_fire_at() = workflow::FromUnixMicros(fire_us);
        claimed.push_back(row);
      } while (lease.fetch());
    }
    std::sort(claimed.begin(), claimed.end(), [](const ClaimedTimer& a, const ClaimedTimer& b) {
      return std::make_pair(workflow::ToUnixMicros(a.timer.fire_at()), a.timer.id()) <
             std::make_pair(workflow::ToUnixMicros(b.timer.fire_at()), b.timer.id());
    });
    return claimed;
  }

  absl::Status UpsertDepartment(const Department& department, std::string body) {
    if (department.id().empty()) return absl::InvalidArgumentError("department has no id");
    dialect_.PrepareBodyValue(&body);
    session_ << "INSERT INTO departments (id, parent, head, body) VALUES (:i, :p, :h, " +
                    dialect_.BodyParameter(":b") +
                    ") ON CONFLICT (id) DO UPDATE SET parent = excluded.parent,"
                " head = excluded.head, body = excluded.body",
        soci::use(department.id()), soci::use(department.parent()),
        soci::use(department.head()), soci::use(body);
    return absl::OkStatus();
  }

  absl::Status UpsertUser(const User& user, std::string body) {
    if (user.id().empty()) return absl::InvalidArgumentError("user has no id");
    dialect_.PrepareBodyValue(&body);
    session_ << "INSERT INTO users (id, department, manager, body) VALUES (:i, :d, :m, " +
                    dialect_.BodyParameter(":b") +
                    ") ON CONFLICT (id) DO UPDATE SET department = excluded.department,"
                " manager = excluded.manager, body = excluded.body",
        soci::use(user.id()), soci::use(user.department()), soci::use(user.manager()),
        soci::use(body);
    ReplaceRoles(user);
    return absl::OkStatus();
  }

  absl::Status UpsertDelegation(const signoff::v1::Delegation& delegation, std::string body) {
    if (delegation.id().empty()) return absl::InvalidArgumentError("delegation has no id");
    dialect_.PrepareBodyValue(&body);
    const int64_t starts_us = workflow::ToUnixMicros(delegation.starts_at());
    const int64_t ends_us = workflow::ToUnixMicros(delegation.ends_at());
    session_ << "INSERT INTO delegations (id, delegator, delegate, starts_us, ends_us, body)"
                " VALUES (:i, :f, :t, :s, :e, " + dialect_.BodyParameter(":b") +
                ") ON CONFLICT (id) DO UPDATE SET delegator = excluded.delegator,"
                " delegate = excluded.delegate, starts_us = excluded.starts_us,"
                " ends_us = excluded.ends_us, body = excluded.body",
        soci::use(delegation.id()), soci::use(delegation.delegator()),
        soci::use(delegation.delegate()), soci::use(starts_us), soci::use(ends_us),
        soci::use(body);
    return absl::OkStatus();
  }

  int64_t MarkNotificationsRead(const NotificationReads& reads) {
    const int64_t read_us = absl::ToUnixMicros(reads.read_at);
    int64_t marked = 0;
    auto mark = [&](const std::string& which, int64_t id) {
      soci::statement statement =
          (session_.prepare << "UPDATE notifications SET read_us = :t WHERE recipient = :r"
                               " AND read_us IS NULL AND " + which,
           soci::use(read_us), soci::use(reads.recipient), soci::use(id));
      statement.execute(true);
      marked += statement.get_affected_rows();
    };
    for (int64_t id : reads.ids) mark("id = :i", id);
    if (reads.up_to_id > 0) mark("id <= :i", reads.up_to_id);
    return marked;
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

  soci::session& session_;
  const Dialect& dialect_;
  WriteStatements& statements_;
  const EncodedMutation& encoded_;
  const Mutation& mutation_;
};

}  // namespace

void AppendEvents(WriteStatements& statements, const EncodedMutation& mutation,
                  CommitResult& result) {
  for (size_t i = 0; i < result.events.size(); ++i) {
    Event& stored = result.events[i];
    stored.set_global_seq(statements.InsertEvent(EventRowOf(stored, mutation.event_bodies[i])));
  }
  for (size_t i = 0; i < mutation.mutation.notifications.size(); ++i) {
    const workflow::PendingNotification& pending = mutation.mutation.notifications[i];
    const v1::Notification& notification = pending.notification;
    statements.InsertNotification(NotificationRow{
        result.events.at(pending.event_index).global_seq(), notification.recipient(),
        notification.instance_id(), static_cast<int>(notification.kind()),
        workflow::ToUnixMicros(notification.created_at()), mutation.notification_bodies[i]});
  }
}

absl::StatusOr<CommitResult> ApplyMutation(soci::session& session, const Dialect& dialect,
                                           WriteStatements& statements,
                                           const EncodedMutation& mutation) {
  return MutationApplier(session, dialect, statements, mutation).Apply();
}

}  // namespace signoff::storage
