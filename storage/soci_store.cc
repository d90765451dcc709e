#include "storage/soci_store.h"

#include <soci/soci.h>

#include <mutex>

#include "absl/strings/str_cat.h"
#include "storage/admin_trail.h"
#include "storage/attachment_store.h"
#include "storage/codec.h"
#include "storage/group_commit.h"
#include "storage/mutation_writer.h"
#include "storage/documents.h"
#include "storage/queries.h"
#include "storage/session_pool.h"
#include "storage/ledger_store.h"
#include "storage/report_store.h"
#include "storage/webhook_store.h"
#include "workflow/status_macros.h"

namespace signoff::storage {
namespace {

using signoff::v1::DefinitionSummary;
using signoff::v1::Event;
using signoff::v1::InstanceState;
using signoff::v1::Organisation;
using signoff::v1::PublishedDefinition;
using signoff::v1::Task;
using signoff::v1::User;

// Gives several reads one snapshot, and always ends the transaction so the
// connection goes back to the pool clean.
class ReadTransaction {
 public:
  ReadTransaction(soci::session& session, const Dialect& dialect) : session_(session) {
    dialect.BeginRead(session_);
  }
  ~ReadTransaction() {
    try {
      session_ << "ROLLBACK";
    } catch (...) {
      // Nothing was written; a failed end leaves nothing to undo.
    }
  }

 private:
  soci::session& session_;
};

template <typename Message>
absl::StatusOr<Message> DecodedOrNotFound(const std::optional<std::string>& body,
                                          const char* noun, const std::string& id) {
  if (!body) return absl::NotFoundError(absl::StrCat(noun, " ", id, " not found"));
  Message message;
  SIGNOFF_RETURN_IF_ERROR(DecodeBody(*body, &message));
  return message;
}

class SociStore final : public Store {
 public:
  SociStore(std::unique_ptr<Dialect> dialect, std::unique_ptr<SessionPool> readers,
            std::vector<std::unique_ptr<MutationWriter>> writers, int max_batch)
      : dialect_(std::move(dialect)), readers_(std::move(readers)), writers_(std::move(writers)) {
    for (auto& writer : writers_) {
      committers_.push_back(std::make_unique<GroupCommitter>(
          max_batch, [writer = writer.get()](const std::vector<const EncodedMutation*>& batch) {
            return writer->CommitBatch(batch);
          }));
    }
  }

  ~SociStore() override {
    // The committers' threads use the writers.
    committers_.clear();
  }

  absl::Status CheckWritable() override { return dialect_->CheckWritable(); }

  void ObserveCommits(CommitObserver observer) override {
    for (auto& committer : committers_) committer->set_observer(observer);
  }

  void ObserveReadFailures(ReadFailureObserver observer) override {
    std::lock_guard<std::mutex> lock(read_observer_mutex_);
    read_observer_ = std::move(observer);
  }

  absl::StatusOr<std::vector<OpenWork>> CountOpenWork() override {
    return Read([&](soci::session& s) { return QueryOpenWork(s); });
  }

  absl::StatusOr<TimerBacklog> GetTimerBacklog(absl::Time now) override {
    return Read([&](soci::session& s) { return QueryTimerBacklog(s, now); });
  }

  // Encoding happens here, on the caller's thread, so that the single
  // writer spends its time only on the database.
  absl::StatusOr<CommitResult> Commit(Mutation mutation) override {
    SIGNOFF_ASSIGN_OR_RETURN(EncodedMutation encoded, EncodeMutation(std::move(mutation)));
    GroupCommitter& committer = *committers_[WriterFor(encoded.mutation)];
    return committer.Commit(std::move(encoded));
  }

  absl::StatusOr<std::optional<IdempotencyRecord>> FindIdempotency(
      const std::string& caller, const std::string& request_id) override {
    return ReadCompiled(
        [&](ReadStatements& reads) -> absl::StatusOr<std::optional<IdempotencyRecord>> {
      std::optional<IdempotencyRecord> found = reads.FindIdempotency(caller, request_id);
      if (found) {
        SIGNOFF_ASSIGN_OR_RETURN(found->reply, StoredBytes(std::move(found->reply)));
      }
      return found;
    });
  }

  absl::StatusOr<int32_t> LatestVersionFrom(DocumentKind kind, const std::string& key,
                                            const std::string& origin) override {
    return Read([&](soci::session& s) -> absl::StatusOr<int32_t> {
      return QueryLatestVersionFrom(s, kind, key, origin);
    });
  }

  absl::StatusOr<PublishedDefinition> GetDefinition(const std::string& key,
                                                    int32_t version) override {
    return Read([&](soci::session& s) { return QueryDefinition(s, key, version); });
  }

  absl::StatusOr<std::vector<DefinitionSummary>> ListDefinitions() override {
    return Read([&](soci::session& s) { return QueryDefinitionSummaries(s); });
  }

  absl::StatusOr<signoff::v1::PublishedCalendar> GetCalendar(const std::string& name,
                                                             int32_t version) override {
    return Read([&](soci::session& s) { return QueryCalendar(s, name, version); });
  }

  absl::StatusOr<std::vector<signoff::v1::PublishedCalendar>> ListCalendars() override {
    return Read([&](soci::session& s) { return QueryLatestCalendars(s); });
  }

  absl::StatusOr<InstanceState> GetInstance(const std::string& id) override {
    return ReadCompiled([&](ReadStatements& reads) {
      return DecodedOrNotFound<InstanceState>(reads.InstanceBody(id), "instance", id);
    });
  }

  absl::StatusOr<Page<InstanceState>> ListInstances(const InstanceFilter& filter) override {
    return Read([&](soci::session& s) { return QueryInstances(s, filter); });
  }

  absl::StatusOr<std::vector<Event>> ListEvents(const std::string& instance_id) override {
    return Read([&](soci::session& s) { return QueryEvents(s, instance_id); });
  }

  absl::StatusOr<History> GetHistory(const std::string& instance_id) override {
    return Read([&](soci::session& s) -> absl::StatusOr<History> {
      ReadTransaction snapshot(s, *dialect_);
      SIGNOFF_ASSIGN_OR_RETURN(History history, QueryChainHead(s, instance_id));
      SIGNOFF_ASSIGN_OR_RETURN(history.events, QueryEvents(s, instance_id));
      return history;
    });
  }

  absl::StatusOr<std::vector<Event>> ListEventsSince(int64_t after_global_seq,
                                                     int limit) override {
    return Read([&](soci::session& s) { return QueryEventsSince(s, after_global_seq, limit); });
  }

  absl::StatusOr<std::vector<workflow::AccessGrant>> GetAccessGrants(
      const std::string& instance_id) override {
    return Read([&](soci::session& s) { return QueryAccessGrants(s, instance_id); });
  }

  absl::StatusOr<AdminTrailPage> ListAdminEvents(int64_t after_seq, int limit) override {
    return Read([&](soci::session& s) {
      ReadTransaction snapshot(s, *dialect_);
      return QueryAdminTrailPage(s, after_seq, limit);
    });
  }

  absl::StatusOr<std::vector<FeedRecord>> ListFeedSince(int64_t after_global_seq,
                                                        int limit) override {
    return Read([&](soci::session& s) { return QueryFeedSince(s, after_global_seq, limit); });
  }

  absl::StatusOr<int64_t> FeedHead() override {
    return Read([&](soci::session& s) { return QueryFeedHead(s); });
  }

  absl::StatusOr<NotificationPage> ListNotifications(const NotificationFilter& filter) override {
    return Read([&](soci::session& s) { return QueryNotifications(s, filter); });
  }

  absl::StatusOr<CatalogVersions> GetCatalogVersions() override {
    return Read([&](soci::session& s) { return QueryCatalogVersions(s); });
  }

  absl::StatusOr<Task> GetTask(const std::string& id) override {
    return ReadCompiled([&](ReadStatements& reads) {
      return DecodedOrNotFound<Task>(reads.TaskBody(id), "task", id);
    });
  }

  absl::StatusOr<Page<Task>> ListTasks(const TaskFilter& filter) override {
    return Read([&](soci::session& s) { return QueryTasks(s, filter); });
  }

  absl::StatusOr<JobRecord> GetJob(const std::string& task_id) override {
    return Read([&](soci::session& s) { return QueryJob(s, task_id); });
  }

  absl::StatusOr<Page<signoff::v1::Incident>> ListIncidents(
      const IncidentFilter& filter) override {
    return Read([&](soci::session& s) { return QueryIncidents(s, filter); });
  }

  absl::StatusOr<StoredWebhook> GetWebhook(const std::string& id) override {
    return Read([&](soci::session& s) { return QueryWebhook(s, id); });
  }

  absl::StatusOr<std::vector<StoredWebhook>> ListWebhooks(const std::string& owner) override {
    return Read([&](soci::session& s) { return QueryWebhooks(s, owner); });
  }

  absl::StatusOr<Page<signoff::v1::Delivery>> ListDeliveries(
      const DeliveryFilter& filter) override {
    return Read([&](soci::session& s) { return QueryDeliveries(s, filter); });
  }

  absl::StatusOr<WebhookDispatchPosition> GetWebhookDispatchPosition() override {
    return Read([&](soci::session& s) { return QueryWebhookDispatchPosition(s); });
  }

  absl::StatusOr<int64_t> GetReportPosition() override {
    return Read([&](soci::session& s) { return QueryReportPosition(s); });
  }

  absl::StatusOr<ReportFacts> LoadReportFacts(
      const std::vector<std::string>& instance_ids) override {
    return Read([&](soci::session& s) { return QueryReportFacts(s, instance_ids); });
  }

  absl::StatusOr<std::vector<ReportCell>> QueryReportCells(const ReportCellQuery& query) override {
    return Read([&](soci::session& s) { return storage::QueryReportCells(s, *dialect_, query); });
  }

  absl::StatusOr<std::vector<ReportTaskFact>> ListOpenReportTasks(
      const std::string& definition_key) override {
    return Read([&](soci::session& s) { return QueryOpenReportTasks(s, definition_key); });
  }

  absl::StatusOr<std::vector<StoredLedgerBalance>> ListLedgerBalances(
      const LedgerFilter& filter) override {
    return Read([&](soci::session& s) { return QueryLedgerBalances(s, filter); });
  }

  absl::StatusOr<std::vector<StoredLedgerBalance>> LoadLedgerBalances(
      const std::string& definition_key,
      const std::vector<signoff::v1::LedgerPosition>& positions) override {
    return Read(
        [&](soci::session& s) { return QueryLedgerBalancesAt(s, definition_key, positions); });
  }

  absl::StatusOr<std::optional<absl::Time>> LastScheduledRun(
      const std::string& definition_key) override {
    return Read([&](soci::session& s) { return QueryLastScheduledRun(s, definition_key); });
  }

  absl::StatusOr<std::vector<ScheduleStart>> ListScheduleStarts(
      const std::string& definition_key, const std::string& period) override {
    return Read([&](soci::session& s) { return QueryScheduleStarts(s, definition_key, period); });
  }

  absl::StatusOr<StoredUpload> GetUpload(const std::string& id) override {
    return Read([&](soci::session& s) { return QueryUpload(s, id); });
  }

  absl::StatusOr<std::vector<UploadChunk>> ListUploadChunks(
      const std::string& upload_id) override {
    return Read([&](soci::session& s) { return QueryUploadChunks(s, *dialect_, upload_id); });
  }

  absl::StatusOr<StoredUpload> FindCompletedUpload(const std::string& uploader,
                                                   const std::string& sha256) override {
    return Read([&](soci::session& s) { return QueryCompletedUpload(s, uploader, sha256); });
  }

  absl::StatusOr<std::vector<signoff::v1::AttachedFile>> ListInstanceAttachments(
      const std::string& instance_id) override {
    return Read([&](soci::session& s) { return QueryInstanceAttachments(s, instance_id); });
  }

  absl::StatusOr<ContentRange> ReadContent(const std::string& sha256, int64_t offset,
                                           int64_t limit) override {
    return Read([&](soci::session& s) { return QueryContent(s, *dialect_, sha256, offset, limit); });
  }

  absl::StatusOr<Organisation> LoadDirectory() override {
    return Read([&](soci::session& s) {
      ReadTransaction snapshot(s, *dialect_);
      return QueryDirectory(s);
    });
  }

  absl::StatusOr<std::vector<signoff::v1::Delegation>> ListDelegations() override {
    return Read([&](soci::session& s) { return QueryDelegations(s); });
  }

  absl::StatusOr<User> GetUser(const std::string& id) override {
    return Read([&](soci::session& s) { return QueryUser(s, id); });
  }

  absl::StatusOr<Page<User>> ListUsers(const UserFilter& filter) override {
    return Read([&](soci::session& s) { return QueryUsers(s, filter); });
  }

 private:
  // A read that finds its connection lost (the server restarted, or closed
  // it while idle) runs once more on a new one: reads change nothing.
  template <typename Query>
  auto Read(Query&& query) -> decltype(query(std::declval<soci::session&>())) {
    SessionPool::Lease session = readers_->Acquire();
    for (int attempt = 1;; ++attempt) {
      try {
        return query(*session);
      } catch (const std::exception& error) {
        if (!session.ForgetConnectionIfLost() || attempt > 1) return ReadFailed(error);
      }
    }
  }

  absl::Status ReadFailed(const std::exception& error) {
    absl::Status status = dialect_->ToStatus(error);
    std::lock_guard<std::mutex> lock(read_observer_mutex_);
    if (read_observer_) read_observer_(status.code());
    return status;
  }

  // A read through the connection's compiled statements. One that failed
  // may have stopped mid-row, holding the connection's snapshot: the
  // connection's statements are compiled afresh.
  template <typename Query>
  auto ReadCompiled(Query&& query) -> decltype(query(std::declval<ReadStatements&>())) {
    SessionPool::Lease session = readers_->Acquire();
    for (int attempt = 1;; ++attempt) {
      try {
        return query(session.statements());
      } catch (const std::exception& error) {
        session.ForgetStatements();
        if (!session.ForgetConnectionIfLost() || attempt > 1) return ReadFailed(error);
      }
    }
  }

  // One instance's changes always go through one writer, so that writers
  // of one process never wait on each other's row locks; the rest (timer
  // claims, publishes, the directory) go through the first.
  size_t WriterFor(const Mutation& mutation) const {
    if (writers_.size() == 1) return 0;
    const std::string* instance_id = nullptr;
    if (mutation.instance) {
      instance_id = &mutation.instance->id();
    } else if (!mutation.events.empty()) {
      instance_id = &mutation.events.front().instance_id();
    }
    if (instance_id == nullptr) return 0;
    return std::hash<std::string>()(*instance_id) % writers_.size();
  }

  std::unique_ptr<Dialect> dialect_;
  std::unique_ptr<SessionPool> readers_;
  std::vector<std::unique_ptr<MutationWriter>> writers_;
  std::vector<std::unique_ptr<GroupCommitter>> committers_;
  std::mutex read_observer_mutex_;
  ReadFailureObserver read_observer_;
};

}  // namespace

absl::StatusOr<std::unique_ptr<Store>> OpenSociStore(std::unique_ptr<Dialect> dialect,
                                                     const SociStoreOptions& options) {
  if (options.max_batch < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("max_batch must be at least 1, got ", options.max_batch));
  }
  if (options.writers < 1) {
    return absl::InvalidArgumentError(
        absl::StrCat("writers must be at least 1, got ", options.writers));
  }
  // The writers migrate, so readers only ever see the current schema.
  std::vector<std::unique_ptr<MutationWriter>> writers;
  for (int i = 0; i < options.writers; ++i) {
    SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<MutationWriter> writer,
                             MutationWriter::Open(*dialect));
    writers.push_back(std::move(writer));
  }
  SIGNOFF_ASSIGN_OR_RETURN(std::unique_ptr<SessionPool> readers,
                   SessionPool::Open(*dialect, options.read_pool_size));
  return std::unique_ptr<Store>(new SociStore(std::move(dialect), std::move(readers),
                                              std::move(writers), options.max_batch));
}

}  // namespace signoff::storage
