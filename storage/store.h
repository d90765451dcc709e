#pragma once

#include <cstdint>
#include <memory>
#include <functional>
#include <optional>
#include <string>
#include <vector>

#include "absl/status/status.h"
#include "absl/status/statusor.h"
#include "absl/time/time.h"
#include "signoff/v1/audit.pb.h"
#include "signoff/v1/calendar.pb.h"
#include "signoff/v1/directory.pb.h"
#include "signoff/v1/events.pb.h"
#include "signoff/v1/instance.pb.h"
#include "signoff/v1/jobs.pb.h"
#include "signoff/v1/service.pb.h"
#include "storage/ledgers.h"
#include "storage/attachments.h"
#include "storage/reports.h"
#include "storage/webhooks.h"
#include "workflow/access.h"
#include "workflow/notifications.h"

namespace signoff::storage {

// Definitions and calendars are both versioned documents: published under
// a key, never changed, numbered from 1.
enum class DocumentKind { kDefinition, kCalendar };

// The stored outcome of a mutating call, replayed when the same request_id
// comes again.
struct IdempotencyRecord {
  // Whose request_id it is: ids are unique per caller. Empty for
  // signoffd's own changes.
  std::string caller;
  std::string request_id;
  std::string method;
  // A digest of the request, to tell a repeat from a reuse of the id.
  std::string fingerprint;
  // The serialized reply message.
  std::string reply;
};

// A timer that came due, with the instance it belongs to.
struct ClaimedTimer {
  std::string instance_id;
  signoff::v1::Timer timer;
};

// Leases due timers to one scheduler: timers whose fire time has come and
// whose lease (if any) has run out.
struct TimerClaim {
  absl::Time now;
  std::string owner;
  absl::Duration lease;
  int limit = 100;
};

// Leases available jobs of one type to a worker: open jobs with no open
// incident, whose backoff has ended (available_at <= now) and whose last
// lease, if any, has run out (lease_until <= now).
struct JobClaim {
  absl::Time now;
  std::string type;
  // The worker's name and the service account it calls as.
  std::string worker;
  std::string caller;
  absl::Duration lease;
  int limit = 1;
  // Only jobs of these definitions; none when empty.
  std::vector<std::string> definition_keys;
};

// One job a claim leased: its activation is `attempt`.
struct ActivatedJob {
  std::string task_id;
  std::string instance_id;
  int64_t attempt = 0;
  absl::Time lease_until;
};

// A job's leasing row.
struct JobRecord {
  std::string task_id;
  std::string instance_id;
  std::string type;
  std::string definition_key;
  int64_t attempt = 0;
  // Empty while no activation holds the job.
  std::string lease_owner;
  std::string lease_caller;
  std::optional<absl::Time> lease_until;
  absl::Time available_at;
  bool incident = false;
};

// A mutation made under an activation's key commits only while that
// activation still holds the job: no later activation took it, and no
// failure ended it. FAILED_PRECONDITION otherwise, PERMISSION_DENIED for
// another caller's activation; nothing of the mutation is written then.
struct JobLeaseCheck {
  std::string task_id;
  int64_t attempt = 0;
  std::string caller;
};

struct IncidentFilter {
  // Only incidents of these definitions; every definition when unset.
  std::optional<std::vector<std::string>> definition_keys;
  std::string definition_key;
  std::string instance_id;
  bool include_resolved = false;
  int32_t page_size = 100;
  std::string page_token;
};

// Everything one command changes. A mutation commits whole or not at all.
// Which of one recipient's notifications a commit marks read: `ids`, and
// every one up to `up_to_id` when that is positive.
struct NotificationReads {
  std::string recipient;
  std::vector<int64_t> ids;
  int64_t up_to_id = 0;
  absl::Time read_at;
};

struct Mutation {
  std::optional<IdempotencyRecord> idempotency;

  // The instance's new state. Its version must be expected_version + 1;
  // expected_version 0 inserts a new instance.
  std::optional<signoff::v1::InstanceState> instance;
  int64_t expected_version = 0;
  // Non-empty while the instance holds its subject: a second open instance
  // with the same key is refused with ALREADY_EXISTS.
  std::string open_subject_key;

  // Appended in order; the store assigns both sequence numbers and the
  // hash chain.
  std::vector<signoff::v1::Event> events;
  // Tasks created or changed by this command, upserted into the inbox
  // index.
  std::vector<signoff::v1::Task> tasks;
  // Timers of the mutation's instance set and removed (fired or
  // cancelled) by this command.
  std::vector<signoff::v1::Timer> timers_set;
  std::vector<std::string> timers_removed;
  std::optional<TimerClaim> timer_claim;
  std::optional<JobClaim> job_claim;
  std::optional<JobLeaseCheck> job_lease;

  // A new definition version. The store assigns the next version number;
  // if the definition names a version, it must be that next one, or the
  // commit is ABORTED.
  std::optional<signoff::v1::PublishedDefinition> definition;
  // A new calendar version, numbered like definitions.
  std::optional<signoff::v1::PublishedCalendar> calendar;

  std::vector<signoff::v1::User> users;
  std::vector<signoff::v1::Department> departments;
  // Standing delegations written whole (replacing one of the same id), and
  // the ids of those removed. Either moves the directory's catalog version
  // on, since the engine reads delegations with the directory.
  std::vector<signoff::v1::Delegation> delegations;
  std::vector<std::string> delegations_removed;

  // The admin audit trail's record of this change, appended in order in
  // the same transaction; the store assigns seq and the hash chain, and
  // sets action from the body.
  std::vector<signoff::v1::AdminEvent> admin_events;

  // Made by `events` (each names its event by index); stored with that
  // event's global_seq.
  std::vector<workflow::PendingNotification> notifications;
  // Marks a recipient's notifications read.
  std::optional<NotificationReads> notification_reads;

  // Webhook subscriptions, dispatch and deliveries (storage/webhooks.h).
  WebhookWrites webhooks;

  // The KPI report projections (storage/reports.h).
  ReportWrites reports;

  // Ledger balances, limits and scheduled starts (storage/ledgers.h).
  LedgerWrites ledgers;
  // Uploads, their content, and the files instances hold
  // (storage/attachments.h).
  AttachmentWrites attachments;
};

struct CommitResult {
  // The request_id was already committed; nothing of this mutation was
  // applied and `existing` holds the first call's record.
  bool duplicate_request = false;
  IdempotencyRecord existing;
  // The events as stored, with sequence numbers and hashes.
  std::vector<signoff::v1::Event> events;
  // The version number given to a published definition.
  int32_t definition_version = 0;
  int32_t calendar_version = 0;
  std::vector<ClaimedTimer> claimed_timers;
  std::vector<ActivatedJob> activated_jobs;
  // The admin events as stored, with seq and hashes.
  std::vector<signoff::v1::AdminEvent> admin_events;
  // How many notifications notification_reads found unread.
  int64_t notifications_marked = 0;
  // What the mutation's webhook writes claimed and replayed.
  WebhookWriteResult webhooks;
};

// One committed event as followers of the feed get it: with its
// instance's definition, and the notifications it made.
struct FeedRecord {
  signoff::v1::Event event;
  std::string definition_key;
  int32_t definition_version = 0;
  std::vector<signoff::v1::Notification> notifications;
};

struct NotificationFilter {
  std::string recipient;
  bool unread_only = false;
  int page_size = 50;
  // Newest first: a page continues below the token's id.
  std::string page_token;
};

struct NotificationPage {
  std::vector<signoff::v1::Notification> notifications;
  std::string next_page_token;
  int64_t unread_count = 0;
};

// The instances a caller who does not read everything may list: those of
// `definition_keys`, and those granted to one of `principals` (see
// workflow/access.h).
struct ReadableBy {
  std::vector<std::string> principals;
  std::vector<std::string> definition_keys;
};

struct InstanceFilter {
  std::string definition_key;
  signoff::v1::InstanceStatus status = signoff::v1::INSTANCE_STATUS_UNSPECIFIED;
  std::string applicant;
  std::string subject;
  // Only instances where some step missed its deadline.
  bool sla_breached = false;
  // Only instances that finished with this named business outcome.
  std::string outcome;
  // Only instances this user was copied on (CC, escalation notices).
  std::string copied_to;
  // Unset: every instance.
  std::optional<ReadableBy> readable_by;
  int32_t page_size = 50;
  std::string page_token;
};

struct TaskFilter {
  std::string assignee;
  // A candidate group (role in department).
  std::string role;
  std::string department;
  signoff::v1::TaskStatus status = signoff::v1::TASK_STATUS_UNSPECIFIED;
  std::string instance_id;
  // Only pending tasks due before this time (overdue: before now).
  std::optional<absl::Time> due_before;
  // An inbox: tasks assigned to inbox_user, or offered to one of
  // inbox_groups, that are pending.
  std::string inbox_user;
  std::vector<signoff::v1::CandidateGroup> inbox_groups;
  // Unset: the tasks of every instance.
  std::optional<ReadableBy> readable_by;
  int32_t page_size = 50;
  std::string page_token;
};

struct UserFilter {
  std::string department;
  std::string role;
  int32_t page_size = 100;
  std::string page_token;
};

// An instance's audit trail as one snapshot: its events, and the chain head
// kept with the instance (how many events it has, and the last one's hash),
// which tells a chain cut short from a whole one.
struct History {
  std::vector<signoff::v1::Event> events;
  int64_t event_count = 0;
  std::string head_hash;
};

// Counters that every committed change to the directory, the calendars or
// the definitions moves on. A process that caches them compares these to
// learn, cheaply, that another process (a replica, `signoffd seed`)
// changed them.
struct CatalogVersions {
  int64_t directory = 0;
  int64_t calendars = 0;
  int64_t definitions = 0;
  bool operator==(const CatalogVersions& other) const {
    return directory == other.directory && calendars == other.calendars &&
           definitions == other.definitions;
  }
  bool operator!=(const CatalogVersions& other) const { return !(*this == other); }
};

// A page of the admin audit trail, with what it takes to check the page on
// its own (VerifyAdminTrailPage): the link to the event before it, and the
// head the store keeps (how many admin events there are, and the last
// one's hash), which tells a trail cut short from a whole one.
struct AdminTrailPage {
  int64_t after_seq = 0;
  // The most events the page was asked for: a page with fewer has read
  // the trail to its end.
  int limit = 0;
  std::vector<signoff::v1::AdminEvent> events;
  // The stored hash of event after_seq, which the page's first event must
  // carry as its prev_hash: empty before the first event, and nullopt when
  // there is no event after_seq.
  std::optional<std::string> link_hash;
  int64_t event_count = 0;
  std::string head_hash;
};

template <typename T>
struct Page {
  std::vector<T> items;
  std::string next_page_token;
};

// Persistence for signoff. Implementations are thread-safe. Writes go
// through Commit, which a single writer applies, batching concurrent
// mutations into one transaction; reads may run concurrently.
//
// What one batch of a writer did: how many commits it carried, how long
// its transaction took, and the codes of the commits in it that failed.
struct CommitBatchReport {
  size_t size = 0;
  absl::Duration latency;
  std::vector<absl::StatusCode> failures;
};
using CommitObserver = std::function<void(const CommitBatchReport&)>;
// Called with the code of every read the database failed.
using ReadFailureObserver = std::function<void(absl::StatusCode)>;

// Open instances and their pending tasks, of one definition.
struct OpenWork {
  std::string definition_key;
  int64_t instances = 0;
  int64_t tasks = 0;
};

// Timers that came due and have not fired.
struct TimerBacklog {
  int64_t due = 0;
  // The fire time of the oldest of them.
  std::optional<absl::Time> oldest_due;
  // Due timers a scheduler claimed and whose lease ran out without the
  // timer firing: a firing that failed or died, waiting to be tried again.
  int64_t lease_expired = 0;
};

// Errors: NOT_FOUND for missing rows, ABORTED when expected_version does
// not match, ALREADY_EXISTS for a held subject, INVALID_ARGUMENT for a bad
// page token, UNAVAILABLE or INTERNAL for database failures.
class Store {
 public:
  virtual ~Store() = default;

  virtual absl::StatusOr<CommitResult> Commit(Mutation mutation) = 0;

  virtual absl::StatusOr<std::optional<IdempotencyRecord>> FindIdempotency(
      const std::string& caller, const std::string& request_id) = 0;

  // version 0 reads the latest.
  virtual absl::StatusOr<signoff::v1::PublishedDefinition> GetDefinition(
      const std::string& key, int32_t version) = 0;
  virtual absl::StatusOr<std::vector<signoff::v1::DefinitionSummary>>
  ListDefinitions() = 0;

  // version 0 reads the latest.
  virtual absl::StatusOr<signoff::v1::PublishedCalendar> GetCalendar(const std::string& name,
                                                                     int32_t version) = 0;
  // The latest version of each calendar, by name.
  virtual absl::StatusOr<std::vector<signoff::v1::PublishedCalendar>> ListCalendars() = 0;

  // The newest version of a definition or calendar published from
  // `origin`; 0 when none was.
  virtual absl::StatusOr<int32_t> LatestVersionFrom(DocumentKind kind, const std::string& key,
                                                    const std::string& origin) = 0;

  // Leases due timers to `claim.owner` through the single writer, oldest
  // first. A timer leased to another owner comes back once its lease ends,
  // so a scheduler that died mid-fire does not strand it.
  absl::StatusOr<std::vector<ClaimedTimer>> ClaimDueTimers(const TimerClaim& claim) {
    Mutation mutation;
    mutation.timer_claim = claim;
    absl::StatusOr<CommitResult> result = Commit(std::move(mutation));
    if (!result.ok()) return result.status();
    return std::move(result->claimed_timers);
  }

  // Leases jobs through the single writer (on PostgreSQL, one transaction
  // with FOR UPDATE SKIP LOCKED): two claims never lease the same job
  // while its lease runs. Those available longest are leased first; the
  // result is in task id order.
  absl::StatusOr<std::vector<ActivatedJob>> ActivateJobs(const JobClaim& claim) {
    Mutation mutation;
    mutation.job_claim = claim;
    absl::StatusOr<CommitResult> result = Commit(std::move(mutation));
    if (!result.ok()) return result.status();
    return std::move(result->activated_jobs);
  }
  // NOT_FOUND for a task that is not an open job.
  virtual absl::StatusOr<JobRecord> GetJob(const std::string& task_id) = 0;
  virtual absl::StatusOr<Page<signoff::v1::Incident>> ListIncidents(
      const IncidentFilter& filter) = 0;

  virtual absl::StatusOr<signoff::v1::InstanceState> GetInstance(
      const std::string& id) = 0;
  virtual absl::StatusOr<Page<signoff::v1::InstanceState>> ListInstances(
      const InstanceFilter& filter) = 0;
  // Ordered by instance_seq.
  virtual absl::StatusOr<std::vector<signoff::v1::Event>> ListEvents(
      const std::string& instance_id) = 0;
  // NOT_FOUND when there is no such instance.
  virtual absl::StatusOr<History> GetHistory(const std::string& instance_id) = 0;
  // Every instance's events after `after_global_seq`, in global_seq order,
  // at most `limit` of them. A reader that resumes from the last
  // global_seq it saw misses none: an event becomes visible only after
  // every event numbered before it.
  virtual absl::StatusOr<std::vector<signoff::v1::Event>> ListEventsSince(
      int64_t after_global_seq, int limit) = 0;

  // As ListEventsSince, each event with its definition and notifications.
  virtual absl::StatusOr<std::vector<FeedRecord>> ListFeedSince(int64_t after_global_seq,
                                                                int limit) = 0;
  // The newest committed global_seq; 0 before the first event.
  virtual absl::StatusOr<int64_t> FeedHead() = 0;

  virtual absl::StatusOr<NotificationPage> ListNotifications(
      const NotificationFilter& filter) = 0;

  virtual absl::StatusOr<CatalogVersions> GetCatalogVersions() = 0;

  // The reasons recorded for reading an instance, sorted; empty for an
  // instance that is not stored.
  virtual absl::StatusOr<std::vector<workflow::AccessGrant>> GetAccessGrants(
      const std::string& instance_id) = 0;

  // The admin events after `after_seq`, in seq order, at most `limit` (at
  // least 1) of them, read in one snapshot with the trail's head.
  virtual absl::StatusOr<AdminTrailPage> ListAdminEvents(int64_t after_seq, int limit) = 0;

  virtual absl::StatusOr<signoff::v1::Task> GetTask(const std::string& id) = 0;
  virtual absl::StatusOr<Page<signoff::v1::Task>> ListTasks(
      const TaskFilter& filter) = 0;

  // OK while a commit could be written now; UNAVAILABLE saying why not.
  // Readiness probes ask this.
  virtual absl::Status CheckWritable() = 0;

  // For metrics. `observer` is called after every commit batch, on the
  // writer's thread, in place of any earlier one.
  virtual void ObserveCommits(CommitObserver observer) = 0;
  // For metrics, in place of any earlier observer; called on the reading
  // thread.
  virtual void ObserveReadFailures(ReadFailureObserver observer) = 0;
  // Open instances and pending tasks per definition.
  virtual absl::StatusOr<std::vector<OpenWork>> CountOpenWork() = 0;
  virtual absl::StatusOr<TimerBacklog> GetTimerBacklog(absl::Time now) = 0;

  // A subscription, deleted or not; NOT_FOUND when no subscription has the
  // id.
  virtual absl::StatusOr<StoredWebhook> GetWebhook(const std::string& id) = 0;
  // The live subscriptions, oldest first: `owner`'s, or every owner's when
  // it is empty.
  virtual absl::StatusOr<std::vector<StoredWebhook>> ListWebhooks(const std::string& owner) = 0;
  // One subscription's deliveries, newest first.
  virtual absl::StatusOr<Page<signoff::v1::Delivery>> ListDeliveries(
      const DeliveryFilter& filter) = 0;
  virtual absl::StatusOr<WebhookDispatchPosition> GetWebhookDispatchPosition() = 0;

  // The KPI report projections (storage/reports.h): the feed position
  // they are complete up to; the facts of some instances with their open
  // tasks (missing ones left out); a definition's cells over some days;
  // a definition's open tasks, by task id.
  virtual absl::StatusOr<int64_t> GetReportPosition() = 0;
  virtual absl::StatusOr<ReportFacts> LoadReportFacts(
      const std::vector<std::string>& instance_ids) = 0;
  virtual absl::StatusOr<std::vector<ReportCell>> QueryReportCells(
      const ReportCellQuery& query) = 0;
  virtual absl::StatusOr<std::vector<ReportTaskFact>> ListOpenReportTasks(
      const std::string& definition_key) = 0;

  // Ledger balances (storage/ledgers.h): those a filter selects, by
  // ledger, period and key; those stored among some positions of one
  // definition.
  virtual absl::StatusOr<std::vector<StoredLedgerBalance>> ListLedgerBalances(
      const LedgerFilter& filter) = 0;
  virtual absl::StatusOr<std::vector<StoredLedgerBalance>> LoadLedgerBalances(
      const std::string& definition_key,
      const std::vector<signoff::v1::LedgerPosition>& positions) = 0;
  // The due time of the latest run a definition's schedule started;
  // nullopt before the first. And the starts of one period, by subject.
  virtual absl::StatusOr<std::optional<absl::Time>> LastScheduledRun(
      const std::string& definition_key) = 0;
  virtual absl::StatusOr<std::vector<ScheduleStart>> ListScheduleStarts(
      const std::string& definition_key, const std::string& period) = 0;
  // Attachments (storage/attachments.h). An upload, completed or not;
  // NOT_FOUND when no upload has the id (or it expired and went).
  virtual absl::StatusOr<StoredUpload> GetUpload(const std::string& id) = 0;
  // An unfinished upload's chunks, by offset.
  virtual absl::StatusOr<std::vector<UploadChunk>> ListUploadChunks(
      const std::string& upload_id) = 0;
  // The newest completed upload of the content by `uploader`; NOT_FOUND
  // when there is none.
  virtual absl::StatusOr<StoredUpload> FindCompletedUpload(const std::string& uploader,
                                                           const std::string& sha256) = 0;
  // The files an instance's forms have held, oldest first.
  virtual absl::StatusOr<std::vector<signoff::v1::AttachedFile>> ListInstanceAttachments(
      const std::string& instance_id) = 0;
  // Up to `limit` bytes of stored content from `offset`; NOT_FOUND for
  // content that is not stored.
  virtual absl::StatusOr<ContentRange> ReadContent(const std::string& sha256, int64_t offset,
                                                   int64_t limit) = 0;

  virtual absl::StatusOr<signoff::v1::Organisation> LoadDirectory() = 0;
  // Every standing delegation, by delegator, then start, then id.
  virtual absl::StatusOr<std::vector<signoff::v1::Delegation>> ListDelegations() = 0;
  virtual absl::StatusOr<signoff::v1::User> GetUser(const std::string& id) = 0;
  virtual absl::StatusOr<Page<signoff::v1::User>> ListUsers(
      const UserFilter& filter) = 0;
};

struct SqliteOptions {
  std::string path;
  // FULL keeps an acknowledged commit through power loss; NORMAL is
  // faster and only survives process crashes.
  std::string synchronous = "FULL";
  int busy_timeout_ms = 5000;
  int read_pool_size = 4;
  // Upper bound on mutations that share one transaction and one disk sync.
  int max_batch = 512;
  // Upper bound on the database's size in pages (4 KiB each); 0 is none. A
  // commit past it fails with RESOURCE_EXHAUSTED, as on a full disk.
  int64_t max_pages = 0;
};

// Opens (creating if needed) the database and applies pending migrations.
absl::StatusOr<std::unique_ptr<Store>> OpenSqliteStore(const SqliteOptions& options);

// Applies pending migrations and returns the schema version reached.
absl::StatusOr<int> MigrateSqlite(const std::string& path);

struct PostgresqlOptions {
  // A libpq connection string: a postgresql:// URL or key=value pairs.
  std::string connection;
  // Read connections; a process also holds `writers` write connections
  // and one that readiness probes use.
  int read_pool_size = 4;
  int max_batch = 512;
  // Write connections: a server parallelises what one connection's round
  // trips would serialise. Each instance's changes keep to one of them.
  int writers = 4;
  // How long a connection attempt may take before the database counts as
  // unreachable; a URL's own connect_timeout wins.
  int connect_timeout_seconds = 5;
};

// Connects and applies pending migrations (one replica at a time).
absl::StatusOr<std::unique_ptr<Store>> OpenPostgresqlStore(const PostgresqlOptions& options);
absl::StatusOr<int> MigratePostgresql(const PostgresqlOptions& options);

// Recomputes an instance's hash chain; false if any event was altered,
// removed or reordered.
bool VerifyEventChain(const std::vector<signoff::v1::Event>& events);

// The chain verifies and ends where the instance says it does: also false
// when the last events were removed.
bool VerifyHistory(const History& history);

// The page's events chain onto its link, one after another from
// after_seq + 1, each hash recomputes, and a page that reaches the end of
// the trail ends at the head. Following every page from 0 to the end, each
// verified, checks the whole trail.
bool VerifyAdminTrailPage(const AdminTrailPage& page);

}  // namespace signoff::storage
