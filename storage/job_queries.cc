// The read side of jobs and incidents.
#include <soci/soci.h>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/str_join.h"
#include "storage/codec.h"
#include "storage/queries.h"
#include "storage/sql_query.h"
#include "workflow/status_macros.h"
#include "workflow/time_util.h"

namespace signoff::storage {
namespace {

using signoff::v1::Incident;

constexpr int kDefaultIncidentPageSize = 100;
constexpr char kIncidentList[] = "incidents";

absl::Status AddFilters(const IncidentFilter& filter, SqlQuery& query) {
  if (filter.definition_keys) {
    if (filter.definition_keys->empty()) {
      query.Where("1 = 0");
    } else {
      std::vector<std::string> keys;
      for (const auto& key : *filter.definition_keys) keys.push_back(query.Bind(key));
      query.Where(absl::StrCat("definition_key IN (", absl::StrJoin(keys, ", "), ")"));
    }
  }
  if (!filter.definition_key.empty()) {
    query.Where(absl::StrCat("definition_key = ", query.Bind(filter.definition_key)));
  }
  if (!filter.instance_id.empty()) {
    query.Where(absl::StrCat("instance_id = ", query.Bind(filter.instance_id)));
  }
  if (!filter.include_resolved) {
    query.Where(absl::StrCat("status = ", query.Bind(int64_t{signoff::v1::INCIDENT_OPEN})));
  }
  if (!filter.page_token.empty()) {
    SIGNOFF_ASSIGN_OR_RETURN(TimeIdPosition after,
                             DecodeTimeIdPageToken(kIncidentList, filter.page_token));
    query.Where(absl::StrCat("(created_us, id) > (", query.Bind(after.time_us), ", ",
                             query.Bind(after.id), ")"));
  }
  return absl::OkStatus();
}

// The columns of one incident row as a statement fetches them.
struct IncidentRow {
  std::string id, instance_id, definition_key, step_id, task_id, job_type, message;
  int status = 0;
  int64_t created_us = 0;
  int64_t resolved_us = 0;
  soci::indicator resolved_us_indicator = soci::i_null;
  std::string resolved_by, resolution;
  soci::indicator resolved_by_indicator = soci::i_null;
  soci::indicator resolution_indicator = soci::i_null;

  Incident ToIncident() const {
    Incident incident;
    incident.set_id(id);
    incident.set_instance_id(instance_id);
    incident.set_definition_key(definition_key);
    incident.set_step_id(step_id);
    incident.set_task_id(task_id);
    incident.set_job_type(job_type);
    incident.set_message(message);
    incident.set_status(static_cast<signoff::v1::IncidentStatus>(status));
    *incident.mutable_created_at() = workflow::FromUnixMicros(created_us);
    if (resolved_us_indicator == soci::i_ok) {
      *incident.mutable_resolved_at() = workflow::FromUnixMicros(resolved_us);
    }
    if (resolved_by_indicator == soci::i_ok) incident.set_resolved_by(resolved_by);
    if (resolution_indicator == soci::i_ok) incident.set_resolution(resolution);
    return incident;
  }
};

}  // namespace

absl::StatusOr<JobRecord> QueryJob(soci::session& session, const std::string& task_id) {
  JobRecord job;
  int64_t lease_until_us = 0;
  int64_t available_us = 0;
  int incident = 0;
  soci::indicator owner_indicator = soci::i_null;
  soci::indicator caller_indicator = soci::i_null;
  soci::indicator until_indicator = soci::i_null;
  session << "SELECT task_id, instance_id, type, definition_key, attempt, lease_owner,"
             " lease_caller, lease_until_us, available_us, incident FROM jobs WHERE task_id = :t",
      soci::use(task_id), soci::into(job.task_id), soci::into(job.instance_id),
      soci::into(job.type), soci::into(job.definition_key), soci::into(job.attempt),
      soci::into(job.lease_owner, owner_indicator), soci::into(job.lease_caller, caller_indicator),
      soci::into(lease_until_us, until_indicator), soci::into(available_us),
      soci::into(incident);
  if (!session.got_data()) {
    return absl::NotFoundError(absl::StrCat("no open job ", task_id));
  }
  if (owner_indicator != soci::i_ok) job.lease_owner.clear();
  if (caller_indicator != soci::i_ok) job.lease_caller.clear();
  if (until_indicator == soci::i_ok) job.lease_until = absl::FromUnixMicros(lease_until_us);
  job.available_at = absl::FromUnixMicros(available_us);
  job.incident = incident != 0;
  return job;
}

absl::StatusOr<Page<Incident>> QueryIncidents(soci::session& session,
                                              const IncidentFilter& filter) {
  const int page_size = ClampPageSize(filter.page_size, kDefaultIncidentPageSize);
  SqlQuery query(
      "SELECT id, instance_id, definition_key, step_id, task_id, job_type, message, status,"
      " created_us, resolved_us, resolved_by, resolution FROM incidents");
  SIGNOFF_RETURN_IF_ERROR(AddFilters(filter, query));
  query.Append(absl::StrCat(" ORDER BY created_us, id LIMIT ", query.Bind(int64_t{page_size + 1})));
  IncidentRow row;
  soci::statement statement = query.Prepare(
      session, soci::into(row.id), soci::into(row.instance_id), soci::into(row.definition_key),
      soci::into(row.step_id), soci::into(row.task_id), soci::into(row.job_type),
      soci::into(row.message), soci::into(row.status), soci::into(row.created_us),
      soci::into(row.resolved_us, row.resolved_us_indicator),
      soci::into(row.resolved_by, row.resolved_by_indicator),
      soci::into(row.resolution, row.resolution_indicator));
  statement.execute();
  std::vector<Incident> incidents;
  while (statement.fetch()) incidents.push_back(row.ToIncident());
  return MakePage(std::move(incidents), page_size, kIncidentList, [](const Incident& incident) {
    return EncodeTimeIdPosition(workflow::ToUnixMicros(incident.created_at()), incident.id());
  });
}

}  // namespace signoff::storage
