#include "storage/job_writes.h"

#include <soci/soci.h>

#include <algorithm>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/dialect.h"
#include "storage/sql_query.h"
#include "workflow/jobs.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

using signoff::v1::Event;
using signoff::v1::Task;

void InsertJob(soci::session& session, const Task& task) {
  const int64_t available_us = workflow::ToUnixMicros(task.job().available_at());
  const int definition_version = task.definition_version();
  session << "INSERT INTO jobs (task_id, instance_id, type, definition_key, definition_version,"
             " step_id, available_us) VALUES (:t, :i, :ty, :d, :v, :s, :a)"
             " ON CONFLICT (task_id) DO NOTHING",
      soci::use(task.id()), soci::use(task.instance_id()), soci::use(task.job().type()),
      soci::use(task.definition_key()), soci::use(definition_version),
      soci::use(task.step_id()), soci::use(available_us);
}

// The activation that held the job ends; the job waits for the next one
// from `available_at`, or (with an incident) for an administrator.
void EndActivation(soci::session& session, const Task& task, int incident) {
  const int64_t available_us = workflow::ToUnixMicros(task.job().available_at());
  session << "UPDATE jobs SET lease_owner = NULL, lease_caller = NULL, lease_until_us = NULL,"
             " available_us = :a, incident = :n WHERE task_id = :t",
      soci::use(available_us), soci::use(incident), soci::use(task.id());
}

void InsertIncident(soci::session& session, const Event& event) {
  std::optional<signoff::v1::Incident> incident =
      workflow::OpenIncidentOf(event.incident_raised().task());
  if (!incident) return;
  const int64_t created_us = workflow::ToUnixMicros(incident->created_at());
  const int status = signoff::v1::INCIDENT_OPEN;
  session << "INSERT INTO incidents (id, instance_id, definition_key, step_id, task_id,"
             " job_type, message, status, created_us) VALUES (:id, :i, :d, :s, :t, :ty, :m,"
             " :st, :c) ON CONFLICT (id) DO NOTHING",
      soci::use(incident->id()), soci::use(incident->instance_id()),
      soci::use(incident->definition_key()), soci::use(incident->step_id()),
      soci::use(incident->task_id()), soci::use(incident->job_type()),
      soci::use(incident->message()), soci::use(status), soci::use(created_us);
}

// Resolves the task's open incident, if it has one.
void ResolveIncidents(soci::session& session, const Event& event, const std::string& resolution) {
  const int64_t resolved_us = workflow::ToUnixMicros(event.time());
  const int resolved = signoff::v1::INCIDENT_RESOLVED;
  const int open = signoff::v1::INCIDENT_OPEN;
  session << "UPDATE incidents SET status = :st, resolved_us = :r, resolved_by = :b,"
             " resolution = :res WHERE task_id = :t AND status = :o",
      soci::use(resolved), soci::use(resolved_us), soci::use(event.actor()),
      soci::use(resolution), soci::use(event.task_id()), soci::use(open);
}

void EndJob(soci::session& session, const Event& event) {
  session << "DELETE FROM jobs WHERE task_id = :t", soci::use(event.task_id());
  ResolveIncidents(session, event, workflow::kIncidentAbandoned);
}

// The task an event carries, for the task events that can touch a job.
const Task* TaskOf(const Event& event) {
  switch (event.body_case()) {
    case Event::kTaskCreated: return &event.task_created().task();
    case Event::kTaskCompleted: return &event.task_completed().task();
    case Event::kTaskCancelled: return &event.task_cancelled().task();
    case Event::kJobFailed: return &event.job_failed().task();
    case Event::kIncidentRaised: return &event.incident_raised().task();
    case Event::kIncidentResolved: return &event.incident_resolved().task();
    case Event::kJobErrorThrown: return &event.job_error_thrown().task();
    default: return nullptr;
  }
}

void RecordJobEvent(soci::session& session, const Event& event, const Task& task) {
  switch (event.body_case()) {
    case Event::kTaskCreated:
      InsertJob(session, task);
      break;
    case Event::kJobFailed:
      EndActivation(session, task, 0);
      break;
    case Event::kIncidentRaised:
      EndActivation(session, task, 1);
      InsertIncident(session, event);
      break;
    case Event::kIncidentResolved:
      ResolveIncidents(session, event, event.reason());
      EndActivation(session, task, 0);
      break;
    default:
      EndJob(session, event);
      break;
  }
}

}  // namespace

absl::Status CheckJobLease(soci::session& session, const Dialect& dialect,
                           const JobLeaseCheck& check) {
  int64_t attempt = 0;
  std::string caller;
  soci::indicator caller_indicator = soci::i_null;
  session << "SELECT attempt, lease_caller FROM jobs WHERE task_id = :t" +
                 dialect.LockRowsClause(),
      soci::use(check.task_id), soci::into(attempt), soci::into(caller, caller_indicator);
  const std::string key = workflow::JobKey(check.task_id, check.attempt);
  if (!session.got_data()) {
    return absl::FailedPreconditionError(absl::StrCat("job ", key, " is no longer open"));
  }
  if (attempt != check.attempt) {
    return absl::FailedPreconditionError(absl::StrCat(
        "job key ", key, " is stale: its lease ran out and the job was activated again (",
        workflow::JobKey(check.task_id, attempt), ")"));
  }
  if (caller_indicator == soci::i_null) {
    return absl::FailedPreconditionError(absl::StrCat(
        "activation ", key, " has ended: the job was failed since and waits for a new one"));
  }
  if (caller != check.caller) {
    return absl::PermissionDeniedError(
        absl::StrCat("activation ", key, " belongs to another service account"));
  }
  return absl::OkStatus();
}

void RecordJobEvents(soci::session& session, const std::vector<Event>& events) {
  for (const Event& event : events) {
    const Task* task = TaskOf(event);
    if (task == nullptr || !workflow::IsJob(*task)) continue;
    RecordJobEvent(session, event, *task);
  }
}

std::vector<ActivatedJob> ClaimJobs(soci::session& session, const Dialect& dialect,
                                    const JobClaim& claim) {
  if (claim.definition_keys.empty() || claim.limit < 1) return {};
  const int64_t now_us = absl::ToUnixMicros(claim.now);
  const int64_t lease_until_us = absl::ToUnixMicros(claim.now + claim.lease);
  SqlQuery query("UPDATE jobs SET attempt = attempt + 1");
  query.Append(absl::StrCat(", lease_owner = ", query.Bind(claim.worker),
                            ", lease_caller = ", query.Bind(claim.caller),
                            ", lease_until_us = ", query.Bind(lease_until_us)));
  std::vector<std::string> keys;
  for (const std::string& key : claim.definition_keys) keys.push_back(query.Bind(key));
  query.Append(absl::StrCat(
      " WHERE task_id IN (SELECT task_id FROM jobs WHERE type = ", query.Bind(claim.type),
      " AND incident = 0 AND available_us <= ", query.Bind(now_us),
      " AND (lease_until_us IS NULL OR lease_until_us <= ", query.Bind(now_us), ")",
      " AND definition_key IN (", absl::StrJoin(keys, ", "), ")",
      " ORDER BY available_us, task_id LIMIT ", query.Bind(int64_t{claim.limit}),
      dialect.LockSkipLockedClause(), ") RETURNING task_id, instance_id, attempt"));
  ActivatedJob row;
  soci::statement statement =
      query.Prepare(session, soci::into(row.task_id), soci::into(row.instance_id),
                    soci::into(row.attempt));
  std::vector<ActivatedJob> activated;
  if (statement.execute(true)) {
    do {
      row.lease_until = absl::FromUnixMicros(lease_until_us);
      activated.push_back(row);
    } while (statement.fetch());
  }
  std::sort(activated.begin(), activated.end(),
            [](const ActivatedJob& a, const ActivatedJob& b) { return a.task_id < b.task_id; });
  return activated;
}

}  // namespace signoff::storage
