#pragma once

// The read side of SociStore: one function per query, each running on a
// session the caller leases. They may throw soci errors; the store's
// boundary turns those into Status.

#include <optional>
#include <string>
#include <vector>

#include "absl/status/statusor.h"
#include "storage/store.h"

namespace soci {
class session;
}

namespace signoff::storage {

class SqlQuery;

// The chain head kept on the instance row; NOT_FOUND without the row.
absl::StatusOr<History> QueryChainHead(soci::session& session, const std::string& instance_id);

absl::StatusOr<std::optional<IdempotencyRecord>> QueryIdempotency(
    soci::session& session, const std::string& caller, const std::string& request_id);

absl::StatusOr<signoff::v1::PublishedDefinition> QueryDefinition(
    soci::session& session, const std::string& key, int32_t version);
absl::StatusOr<std::vector<signoff::v1::DefinitionSummary>> QueryDefinitionSummaries(
    soci::session& session);

absl::StatusOr<signoff::v1::PublishedCalendar> QueryCalendar(soci::session& session,
                                                             const std::string& name,
                                                             int32_t version);
absl::StatusOr<std::vector<signoff::v1::PublishedCalendar>> QueryLatestCalendars(
    soci::session& session);

absl::StatusOr<Page<signoff::v1::InstanceState>> QueryInstances(
    soci::session& session, const InstanceFilter& filter);
absl::StatusOr<std::vector<signoff::v1::Event>> QueryEvents(
    soci::session& session, const std::string& instance_id);

// A WHERE condition keeping the rows `readable` allows; `instance_column`
// names the row's instance id: `id` on instances, whose definition_key is
// on the row, or `instance_id` on tasks.
std::string ReadableCondition(const ReadableBy& readable, const std::string& instance_column,
                              SqlQuery& query);

absl::StatusOr<std::vector<workflow::AccessGrant>> QueryAccessGrants(
    soci::session& session, const std::string& instance_id);

absl::StatusOr<std::vector<signoff::v1::Event>> QueryEventsSince(soci::session& session,
                                                                 int64_t after_global_seq,
                                                                 int limit);
absl::StatusOr<std::vector<FeedRecord>> QueryFeedSince(soci::session& session,
                                                       int64_t after_global_seq, int limit);
absl::StatusOr<int64_t> QueryFeedHead(soci::session& session);
absl::StatusOr<std::vector<OpenWork>> QueryOpenWork(soci::session& session);
absl::StatusOr<TimerBacklog> QueryTimerBacklog(soci::session& session, absl::Time now);
absl::StatusOr<NotificationPage> QueryNotifications(soci::session& session,
                                                    const NotificationFilter& filter);
absl::StatusOr<CatalogVersions> QueryCatalogVersions(soci::session& session);

absl::StatusOr<Page<signoff::v1::Task>> QueryTasks(soci::session& session,
                                                   const TaskFilter& filter);

// NOT_FOUND for a task that is not an open job.
absl::StatusOr<JobRecord> QueryJob(soci::session& session, const std::string& task_id);
absl::StatusOr<Page<signoff::v1::Incident>> QueryIncidents(soci::session& session,
                                                           const IncidentFilter& filter);

absl::StatusOr<signoff::v1::Organisation> QueryDirectory(soci::session& session);
absl::StatusOr<signoff::v1::User> QueryUser(soci::session& session, const std::string& id);
absl::StatusOr<std::vector<signoff::v1::Delegation>> QueryDelegations(soci::session& session);
// With a role, `department` is where the role is held (a grant's resolved
// department); without one, it is the users' own department.
absl::StatusOr<Page<signoff::v1::User>> QueryUsers(soci::session& session,
                                                   const UserFilter& filter);

}  // namespace signoff::storage
