// Time through the real server: calendars over gRPC, timers firing through
// the commit path, restarts with overdue timers, a timer racing a human,
// two schedulers sharing one database, signals and clock operations.
#include <atomic>
#include <thread>

#include "gmock/gmock.h"
#include "server_fixture.h"

namespace signoff::testing {
namespace {

using ::testing::ElementsAre;
using ::testing::IsEmpty;

constexpr char kCalendar[] = R"(
name: work
time_zone: Asia/Shanghai
working_hours: [{start: "09:00", end: "18:00"}]
)";

// Reviewed by fred within four working hours, or rejected as late.
constexpr char kDeadlineDefinition[] = R"(
key: claim
calendar: work
reject_reasons: [{code: late}, {code: other}]
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla:
      due: {hours: 4, business: true}
      on_timeout: {action: TIMEOUT_AUTO_REJECT, reason_code: late}
    actions: {allowed: [APPROVE, REJECT, COMMENT, PAUSE_CLOCK, EXTEND_DEADLINE]}
    next: [{to: done}]
  - {id: done, end: {}}
)";

constexpr char kWaitDefinition[] = R"(
key: watch
service_accounts: [svc]
steps:
  - id: hold
    wait: {signal: kpi_recovered, duration: {days: 30}, on_timeout: interview}
    next: [{to: recovered}]
  - id: interview
    task: {assignees: [{user: hal}]}
    next: [{to: recovered}]
  - {id: recovered, end: {}}
)";

// A store whose instance reads can be made to fail, as a busy or broken
// database would; everything else passes through.
class FlakyReadStore final : public storage::Store {
 public:
  explicit FlakyReadStore(std::shared_ptr<storage::Store> inner) : inner_(std::move(inner)) {}

  std::atomic<bool> fail_instance_reads{false};

  absl::StatusOr<v1::InstanceState> GetInstance(const std::string& id) override {
    if (fail_instance_reads) return absl::UnavailableError("database is busy");
    return inner_->GetInstance(id);
  }
  absl::StatusOr<storage::CommitResult> Commit(storage::Mutation mutation) override {
    return inner_->Commit(std::move(mutation));
  }
  void ObserveReadFailures(storage::ReadFailureObserver observer) override {
    inner_->ObserveReadFailures(std::move(observer));
  }
  void ObserveCommits(storage::CommitObserver observer) override {
    inner_->ObserveCommits(std::move(observer));
  }
  absl::StatusOr<std::vector<storage::OpenWork>> CountOpenWork() override {
    return inner_->CountOpenWork();
  }
  absl::StatusOr<storage::TimerBacklog> GetTimerBacklog(absl::Time now) override {
    return inner_->GetTimerBacklog(now);
  }
  absl::StatusOr<std::optional<storage::IdempotencyRecord>> FindIdempotency(
      const std::string& caller, const std::string& request_id) override {
    return inner_->FindIdempotency(caller, request_id);
  }
  absl::StatusOr<v1::PublishedDefinition> GetDefinition(const std::string& key,
                                                        int32_t version) override {
    return inner_->GetDefinition(key, version);
  }
  absl::StatusOr<std::vector<v1::DefinitionSummary>> ListDefinitions() override {
    return inner_->ListDefinitions();
  }
  absl::StatusOr<v1::PublishedCalendar> GetCalendar(const std::string& name,
                                                    int32_t version) override {
    return inner_->GetCalendar(name, version);
  }
  absl::StatusOr<std::vector<v1::PublishedCalendar>> ListCalendars() override {
    return inner_->ListCalendars();
  }
  absl::StatusOr<storage::Page<v1::InstanceState>> ListInstances(
      const storage::InstanceFilter& filter) override {
    return inner_->ListInstances(filter);
  }
  absl::StatusOr<std::vector<v1::Event>> ListEvents(const std::string& id) override {
    return inner_->ListEvents(id);
  }
  absl::StatusOr<std::vector<v1::Event>> ListEventsSince(int64_t after, int limit) override {
    return inner_->ListEventsSince(after, limit);
  }
  absl::StatusOr<std::vector<workflow::AccessGrant>> GetAccessGrants(
      const std::string& id) override {
    return inner_->GetAccessGrants(id);
  }
  absl::StatusOr<std::vector<storage::FeedRecord>> ListFeedSince(int64_t after,
                                                                 int limit) override {
    return inner_->ListFeedSince(after, limit);
  }
  absl::StatusOr<int64_t> FeedHead() override { return inner_->FeedHead(); }
  absl::StatusOr<storage::NotificationPage> ListNotifications(
      const storage::NotificationFilter& filter) override {
    return inner_->ListNotifications(filter);
  }
  absl::StatusOr<storage::CatalogVersions> GetCatalogVersions() override {
    return inner_->GetCatalogVersions();
  }
  absl::StatusOr<storage::AdminTrailPage> ListAdminEvents(int64_t after, int limit) override {
    return inner_->ListAdminEvents(after, limit);
  }
  absl::Status CheckWritable() override { return inner_->CheckWritable(); }
  absl::StatusOr<storage::History> GetHistory(const std::string& id) override {
    return inner_->GetHistory(id);
  }
  absl::StatusOr<int32_t> LatestVersionFrom(storage::DocumentKind kind, const std::string& key,
                                            const std::string& origin) override {
    return inner_->LatestVersionFrom(kind, key, origin);
  }
  absl::StatusOr<v1::Task> GetTask(const std::string& id) override { return inner_->GetTask(id); }
  absl::StatusOr<storage::JobRecord> GetJob(const std::string& task_id) override {
    return inner_->GetJob(task_id);
  }
  absl::StatusOr<storage::Page<v1::Incident>> ListIncidents(
      const storage::IncidentFilter& filter) override {
    return inner_->ListIncidents(filter);
  }
  absl::StatusOr<storage::Page<v1::Task>> ListTasks(const storage::TaskFilter& filter) override {
    return inner_->ListTasks(filter);
  }
  absl::StatusOr<storage::StoredWebhook> GetWebhook(const std::string& id) override {
    return inner_->GetWebhook(id);
  }
  absl::StatusOr<std::vector<storage::StoredWebhook>> ListWebhooks(
      const std::string& owner) override {
    return inner_->ListWebhooks(owner);
  }
  absl::StatusOr<storage::Page<v1::Delivery>> ListDeliveries(
      const storage::DeliveryFilter& filter) override {
    return inner_->ListDeliveries(filter);
  }
  absl::StatusOr<storage::WebhookDispatchPosition> GetWebhookDispatchPosition() override {
    return inner_->GetWebhookDispatchPosition();
  }
  absl::StatusOr<int64_t> GetReportPosition() override { return inner_->GetReportPosition(); }
  absl::StatusOr<storage::ReportFacts> LoadReportFacts(
      const std::vector<std::string>& instance_ids) override {
    return inner_->LoadReportFacts(instance_ids);
  }
  absl::StatusOr<std::vector<storage::ReportCell>> QueryReportCells(
      const storage::ReportCellQuery& query) override {
    return inner_->QueryReportCells(query);
  }
  absl::StatusOr<std::vector<storage::ReportTaskFact>> ListOpenReportTasks(
      const std::string& definition_key) override {
    return inner_->ListOpenReportTasks(definition_key);
  }
  absl::StatusOr<std::vector<storage::StoredLedgerBalance>> ListLedgerBalances(
      const storage::LedgerFilter& filter) override {
    return inner_->ListLedgerBalances(filter);
  }
  absl::StatusOr<std::vector<storage::StoredLedgerBalance>> LoadLedgerBalances(
      const std::string& definition_key,
      const std::vector<v1::LedgerPosition>& positions) override {
    return inner_->LoadLedgerBalances(definition_key, positions);
  }
  absl::StatusOr<std::optional<absl::Time>> LastScheduledRun(
      const std::string& definition_key) override {
    return inner_->LastScheduledRun(definition_key);
  }
  absl::StatusOr<std::vector<storage::ScheduleStart>> ListScheduleStarts(
      const std::string& definition_key, const std::string& period) override {
    return inner_->ListScheduleStarts(definition_key, period);
  }
  absl::StatusOr<storage::StoredUpload> GetUpload(const std::string& id) override {
    return inner_->GetUpload(id);
  }
  absl::StatusOr<std::vector<storage::UploadChunk>> ListUploadChunks(
      const std::string& upload_id) override {
    return inner_->ListUploadChunks(upload_id);
  }
  absl::StatusOr<storage::StoredUpload> FindCompletedUpload(const std::string& uploader,
                                                            const std::string& sha256) override {
    return inner_->FindCompletedUpload(uploader, sha256);
  }
  absl::StatusOr<std::vector<v1::AttachedFile>> ListInstanceAttachments(
      const std::string& instance_id) override {
    return inner_->ListInstanceAttachments(instance_id);
  }
  absl::StatusOr<storage::ContentRange> ReadContent(const std::string& sha256, int64_t offset,
                                                    int64_t limit) override {
    return inner_->ReadContent(sha256, offset, limit);
  }
  absl::StatusOr<v1::Organisation> LoadDirectory() override { return inner_->LoadDirectory(); }
  absl::StatusOr<std::vector<v1::Delegation>> ListDelegations() override {
    return inner_->ListDelegations();
  }
  absl::StatusOr<v1::User> GetUser(const std::string& id) override { return inner_->GetUser(id); }
  absl::StatusOr<storage::Page<v1::User>> ListUsers(const storage::UserFilter& filter) override {
    return inner_->ListUsers(filter);
  }

 private:
  std::shared_ptr<storage::Store> inner_;
};

class TimeServerTest : public ServerTest {
 protected:
  void SetUp() override {
    ServerTest::SetUp();
    ASSERT_OK(PublishCalendar(kCalendar, "publish-work"));
    ASSERT_OK(Publish(kDeadlineDefinition, "publish-claim"));
    ASSERT_OK(Publish(kWaitDefinition, "publish-watch"));
  }

  absl::StatusOr<v1::PublishCalendarResponse> PublishCalendar(const std::string& yaml,
                                                              const std::string& request_id,
                                                              const std::string& user = "ceo") {
    v1::PublishCalendarRequest request;
    request.set_request_id(request_id);
    request.set_yaml(yaml);
    return client_->Call(user, *client_->calendars,
                         &v1::CalendarService::Stub::PublishCalendar, request);
  }

  absl::StatusOr<v1::ListTasksResponse> Overdue(const std::string& user) {
    v1::ListTasksRequest request;
    request.set_overdue(true);
    return client_->Call(user, *client_->tasks, &v1::TaskService::Stub::ListTasks, request);
  }

  absl::StatusOr<v1::ListInstancesResponse> Breached() {
    v1::ListInstancesRequest request;
    request.set_sla_breached(true);
    return client_->Call("ceo", *client_->instances, &v1::InstanceService::Stub::ListInstances,
                         request);
  }

  absl::StatusOr<v1::InstanceResponse> Signal(const std::string& user, const std::string& id,
                                              const std::string& name,
                                              const std::string& request_id) {
    v1::SignalInstanceRequest request;
    request.set_request_id(request_id);
    request.set_id(id);
    request.set_name(name);
    return client_->Call(user, *client_->instances, &v1::InstanceService::Stub::SignalInstance,
                         request);
  }

  // Fires what is due as the scheduler would; a timer that could not fire
  // fails the test.
  int FireDue(app::Application& core, int limit = 100) {
    absl::StatusOr<app::TimerRound> round = core.timers().FireDueTimers(limit);
    EXPECT_TRUE(round.ok()) << round.status();
    if (!round.ok()) return -1;
    for (const auto& failure : round->failures) {
      ADD_FAILURE() << failure.timer.timer.id() << ": " << failure.status;
    }
    return round->fired;
  }

  int EventsOfType(const std::string& id, const std::string& type) {
    auto events = store_->ListEvents(id);
    EXPECT_TRUE(events.ok()) << events.status();
    int count = 0;
    for (const auto& event : events.ok() ? *events : std::vector<v1::Event>()) {
      count += event.type() == type;
    }
    return count;
  }
};

TEST_F(TimeServerTest, CalendarsArePublishedVersionedAndChecked) {
  // The same content again is the version already published.
  ASSERT_OK_AND_ASSIGN(auto same, PublishCalendar(kCalendar, "publish-work-same"));
  EXPECT_EQ(same.published().version(), 1);
  EXPECT_TRUE(same.unchanged());
  const std::string longer_day = std::string(kCalendar) + "working_days: [MONDAY, TUESDAY]\n";
  ASSERT_OK_AND_ASSIGN(auto again, PublishCalendar(longer_day, "publish-work-2"));
  EXPECT_EQ(again.published().version(), 2);
  EXPECT_FALSE(again.unchanged());
  EXPECT_EQ(again.published().published_by(), "ceo");
  EXPECT_EQ(again.published().origin(), "");
  ASSERT_OK_AND_ASSIGN(auto repeat, PublishCalendar(longer_day, "publish-work-2"));
  EXPECT_EQ(repeat.published().version(), 2);
  EXPECT_CODE(PublishCalendar(kCalendar, "by-ann", "ann"), absl::StatusCode::kPermissionDenied);
  auto bad = PublishCalendar(R"(
name: broken
time_zone: Mars/Olympus
working_hours: [{start: "18:00", end: "09:00"}]
years: [{year: 2026, holidays: ["2026-02-30"]}]
)", "publish-broken");
  EXPECT_CODE(bad, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              ::testing::IsSupersetOf({"calendar.working_hours[0].end",
                                       "calendar.years[0].holidays[0]"}));
  auto zone = PublishCalendar("{name: zoned, time_zone: Mars/Olympus}", "publish-zone");
  EXPECT_CODE(zone, absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("calendar.time_zone"));

  v1::GetCalendarRequest get;
  get.set_name("work");
  get.set_version(1);
  ASSERT_OK_AND_ASSIGN(auto first, client_->Call("ann", *client_->calendars,
                                                 &v1::CalendarService::Stub::GetCalendar, get));
  EXPECT_EQ(first.published().calendar().time_zone(), "Asia/Shanghai");
  get.set_name("nowhere");
  get.set_version(0);
  EXPECT_CODE(client_->Call("ann", *client_->calendars, &v1::CalendarService::Stub::GetCalendar,
                            get),
              absl::StatusCode::kNotFound);
  ASSERT_OK_AND_ASSIGN(auto list, client_->Call("ann", *client_->calendars,
                                                &v1::CalendarService::Stub::ListCalendars,
                                                v1::ListCalendarsRequest()));
  ASSERT_EQ(list.calendars_size(), 1);
  EXPECT_EQ(list.calendars(0).version(), 2);
}

TEST_F(TimeServerTest, ADefinitionOnAnUnknownCalendarIsRefused) {
  std::string yaml = kDeadlineDefinition;
  yaml.replace(yaml.find("calendar: work"), 14, "calendar: gone");
  yaml.replace(yaml.find("key: claim"), 10, "key: other");
  EXPECT_CODE(Publish(yaml, "publish-gone"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(),
              ::testing::UnorderedElementsAre("definition.calendar",
                                              "definition.steps[0].sla.due"));
}

TEST_F(TimeServerTest, ADeadlineFiresThroughTheCommitPathOnce) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "claim", "{}", "start-1"));
  ASSERT_EQ(view.pending_tasks_size(), 1);
  EXPECT_TRUE(view.pending_tasks(0).has_due_at());
  ASSERT_OK_AND_ASSIGN(auto overdue, Overdue("fred"));
  EXPECT_THAT(overdue.tasks(), IsEmpty());
  now_.Advance(absl::Hours(24 * 3));
  ASSERT_OK_AND_ASSIGN(overdue, Overdue("fred"));
  ASSERT_EQ(overdue.tasks_size(), 1);
  EXPECT_TRUE(overdue.tasks(0).overdue());
  int fired = FireDue(*app_, 10);
  EXPECT_EQ(fired, 1);
  fired = FireDue(*app_, 10);
  EXPECT_EQ(fired, 0);
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::REJECTED);
  EXPECT_TRUE(view.sla_breached());
  ASSERT_OK_AND_ASSIGN(auto breached, Breached());
  ASSERT_EQ(breached.instances_size(), 1);
  EXPECT_EQ(breached.instances(0).id(), view.id());
  EXPECT_EQ(EventsOfType(view.id(), "sla_breached"), 1);
  ExpectReplayMatchesStore(view.id());
}

TEST_F(TimeServerTest, TimersThatCameDueWhileDownFireOnceAfterRestart) {
  std::vector<std::string> ids;
  for (int i = 0; i < 3; ++i) {
    ASSERT_OK_AND_ASSIGN(auto view,
                         client_->Start("ann", "claim", "{}", absl::StrCat("start-", i)));
    ids.push_back(view.id());
  }
  Restart();
  now_.Advance(absl::Hours(24 * 7));
  Restart();
  int fired = FireDue(*app_, 100);
  EXPECT_EQ(fired, 3);
  Restart();
  fired = FireDue(*app_, 100);
  EXPECT_EQ(fired, 0);
  for (const auto& id : ids) {
    EXPECT_EQ(EventsOfType(id, "sla_breached"), 1) << id;
    ASSERT_OK_AND_ASSIGN(auto view, client_->Get("ann", id));
    EXPECT_EQ(view.status(), v1::REJECTED);
    ExpectReplayMatchesStore(id);
  }
}

TEST_F(TimeServerTest, ATimerRacingADecisionHasExactlyOneOutcome) {
  for (int round = 0; round < 8; ++round) {
    ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "claim", "{}",
                                                   absl::StrCat("race-start-", round)));
    const std::string task = PendingTaskOf(view, "fred");
    now_.Advance(absl::Hours(24 * 3));
    absl::Status decided;
    int fired = 0;
    std::thread human([&] {
      ApiClient client(server_->InProcessChannel());
      decided = client.Decide("fred", task, v1::APPROVE, absl::StrCat("race-", round)).status();
    });
    std::thread timer([&] { fired = FireDue(*app_, 10); });
    human.join();
    timer.join();
    EXPECT_LE(fired, 1);
    ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
    if (decided.ok()) {
      EXPECT_EQ(view.status(), v1::APPROVED);
      EXPECT_EQ(EventsOfType(view.id(), "sla_breached"), 0);
    } else {
      EXPECT_TRUE(absl::IsFailedPrecondition(decided) || absl::IsAborted(decided)) << decided;
      EXPECT_EQ(view.status(), v1::REJECTED);
      EXPECT_EQ(EventsOfType(view.id(), "sla_breached"), 1);
    }
    int left = FireDue(*app_, 10);
    EXPECT_EQ(left, 0);
    ExpectReplayMatchesStore(view.id());
  }
}

TEST_F(TimeServerTest, ATimerThatCannotBeCheckedKeepsItsRowAndFiresLater) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "claim", "{}", "flaky-start"));
  auto flaky = std::make_shared<FlakyReadStore>(store_);
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<app::Application> core,
                       app::Application::Create(flaky, [this] { return now_.load(); }));
  now_.Advance(absl::Hours(24 * 3));
  flaky->fail_instance_reads = true;
  ASSERT_OK_AND_ASSIGN(auto failed, core->timers().FireDueTimers(10));
  EXPECT_EQ(failed.claimed, 1);
  EXPECT_EQ(failed.fired, 0);
  ASSERT_EQ(failed.failures.size(), 1u);
  EXPECT_TRUE(absl::IsUnavailable(failed.failures[0].status)) << failed.failures[0].status;
  flaky->fail_instance_reads = false;
  // The lease has to run out before the timer comes round again.
  now_.Advance(absl::Minutes(2));
  EXPECT_EQ(FireDue(*core), 1);
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::REJECTED);
  EXPECT_EQ(EventsOfType(view.id(), "sla_breached"), 1);
}

TEST_F(TimeServerTest, TwoSchedulersOnOneDatabaseFireEachTimerOnce) {
  for (int i = 0; i < 20; ++i) {
    ASSERT_OK(client_->Start("ann", "claim", "{}", absl::StrCat("pair-", i)).status());
  }
  now_.Advance(absl::Hours(24 * 7));
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<storage::Store> other_store, database_->Open());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<app::Application> other,
                       app::Application::Create(other_store, [this] { return now_.load(); }));
  std::atomic<int> fired{0};
  auto drain = [&](app::Application& core) {
    for (int round = 0; round < 10; ++round) {
      fired += FireDue(core, 3);
    }
  };
  std::thread first([&] { drain(*app_); });
  std::thread second([&] { drain(*other); });
  first.join();
  second.join();
  EXPECT_EQ(fired.load(), 20);
  ASSERT_OK_AND_ASSIGN(auto breached, Breached());
  EXPECT_EQ(breached.instances_size(), 20);
  for (const auto& instance : breached.instances()) {
    EXPECT_EQ(EventsOfType(instance.id(), "sla_breached"), 1);
  }
}

TEST_F(TimeServerTest, AReplicaSeesACalendarPublishedElsewhereAfterARefresh) {
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<storage::Store> other_store, database_->Open());
  ASSERT_OK_AND_ASSIGN(std::shared_ptr<app::Application> other,
                       app::Application::Create(other_store, [this] { return now_.load(); }));
  ASSERT_OK(PublishCalendar("{name: late, time_zone: UTC}", "publish-late"));
  v1::ValidateDefinitionRequest validate;
  validate.mutable_source()->set_yaml(R"(
key: later
calendar: late
steps:
  - id: review
    approval: {approvers: [{user: fred}]}
    sla: {due: {days: 1, business: true}}
    next: [{to: done}]
  - {id: done, end: {}}
)");
  const app::Caller caller{"ceo"};
  ASSERT_OK_AND_ASSIGN(auto before, other->definitions().ValidateDefinition(caller, validate));
  EXPECT_FALSE(before.valid());
  ASSERT_OK(other->context().ReloadCalendars());
  ASSERT_OK_AND_ASSIGN(auto after, other->definitions().ValidateDefinition(caller, validate));
  EXPECT_TRUE(after.valid());
}

TEST_F(TimeServerTest, SignalsAreIdempotentAndChecked) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "watch", "{}", "watch-1"));
  EXPECT_CODE(Signal("ann", view.id(), "kpi_recovered", "s0"),
              absl::StatusCode::kPermissionDenied);
  EXPECT_CODE(Signal("svc", view.id(), "kpi_worse", "s1"), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("name"));
  ASSERT_OK_AND_ASSIGN(auto signalled, Signal("svc", view.id(), "kpi_recovered", "s2"));
  EXPECT_EQ(signalled.instance().status(), v1::APPROVED);
  const int events = static_cast<int>(store_->ListEvents(view.id())->size());
  ASSERT_OK_AND_ASSIGN(auto repeated, Signal("svc", view.id(), "kpi_recovered", "s2"));
  EXPECT_EQ(repeated.instance().version(), signalled.instance().version());
  EXPECT_EQ(static_cast<int>(store_->ListEvents(view.id())->size()), events);
  EXPECT_CODE(Signal("svc", view.id(), "kpi_recovered", "s3"),
              absl::StatusCode::kFailedPrecondition);
  v1::SignalInstanceRequest reused;
  reused.set_request_id("s2");
  reused.set_id(view.id());
  reused.set_name("kpi_recovered");
  (*reused.mutable_payload()->mutable_fields())["x"].set_bool_value(true);
  EXPECT_CODE(client_->Call("svc", *client_->instances,
                            &v1::InstanceService::Stub::SignalInstance, reused),
              absl::StatusCode::kInvalidArgument);
  ExpectReplayMatchesStore(view.id());
}

TEST_F(TimeServerTest, WithdrawingRemovesTheTimersSoNothingFiresLater) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "claim", "{}", "withdrawn-start"));
  v1::WithdrawInstanceRequest withdraw;
  withdraw.set_request_id("withdraw-1");
  withdraw.set_id(view.id());
  ASSERT_OK(client_->Call("ann", *client_->instances,
                          &v1::InstanceService::Stub::WithdrawInstance, withdraw));
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::WITHDRAWN);
  EXPECT_THAT(view.clocks(), IsEmpty());
  now_.Advance(absl::Hours(24 * 30));
  ASSERT_OK_AND_ASSIGN(auto round, app_->timers().FireDueTimers(10));
  EXPECT_EQ(round.claimed, 0);
  EXPECT_EQ(EventsOfType(view.id(), "timer_cancelled"), 1);
  EXPECT_EQ(EventsOfType(view.id(), "sla_breached"), 0);
  ExpectReplayMatchesStore(view.id());
}

TEST_F(TimeServerTest, CallersCannotTakeATimersRequestId) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "claim", "{}", "squat-start"));
  v1::DecideTaskRequest comment;
  comment.set_task_id(PendingTaskOf(view, "fred"));
  comment.set_action(v1::COMMENT);
  comment.set_comment("taking the timer's key");
  const std::string timer_key =
      absl::StrCat(app::kServiceRequestPrefix, "timer:", view.id(), "-m1");
  EXPECT_CODE(client_->Decide("fred", comment, timer_key), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(client_->LastViolationFields(), ElementsAre("request_id"));
  now_.Advance(absl::Hours(24 * 3));
  EXPECT_EQ(FireDue(*app_), 1);
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_EQ(view.status(), v1::REJECTED);
}

TEST_F(TimeServerTest, AWaitThatRunsOutTakesItsTimeoutBranch) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "watch", "{}", "watch-2"));
  now_.Advance(absl::Hours(24 * 31));
  int fired = FireDue(*app_, 10);
  EXPECT_EQ(fired, 1);
  ASSERT_OK_AND_ASSIGN(view, client_->Get("ann", view.id()));
  EXPECT_THAT(view.active_steps(), ElementsAre("interview"));
  EXPECT_CODE(Signal("svc", view.id(), "kpi_recovered", "late"),
              absl::StatusCode::kFailedPrecondition);
}

TEST_F(TimeServerTest, ClockOperationsMoveTheDueTimeShownOnTasks) {
  ASSERT_OK_AND_ASSIGN(auto view, client_->Start("ann", "claim", "{}", "clock-1"));
  const std::string task = PendingTaskOf(view, "fred");
  const auto due = view.pending_tasks(0).due_at();
  v1::ClockRequest pause;
  pause.set_request_id("pause-1");
  pause.set_task_id(task);
  pause.set_comment("waiting for documents");
  EXPECT_CODE(client_->Call("hal", *client_->tasks, &v1::TaskService::Stub::PauseClock, pause),
              absl::StatusCode::kNotFound);
  EXPECT_CODE(client_->Call("ann", *client_->tasks, &v1::TaskService::Stub::PauseClock, pause),
              absl::StatusCode::kPermissionDenied);
  ASSERT_OK_AND_ASSIGN(auto paused, client_->Call("fred", *client_->tasks,
                                                  &v1::TaskService::Stub::PauseClock, pause));
  EXPECT_TRUE(paused.task().clock_paused());
  EXPECT_FALSE(paused.clock().has_running_since());
  now_.Advance(absl::Hours(24 * 10));
  int fired = FireDue(*app_, 10);
  EXPECT_EQ(fired, 0);
  v1::ClockRequest resume = pause;
  resume.set_request_id("resume-1");
  ASSERT_OK_AND_ASSIGN(auto resumed, client_->Call("fred", *client_->tasks,
                                                   &v1::TaskService::Stub::ResumeClock, resume));
  EXPECT_GT(resumed.task().due_at().seconds(), due.seconds());
  v1::ExtendDeadlineRequest extend;
  extend.set_request_id("extend-1");
  extend.set_task_id(task);
  extend.mutable_by()->set_hours(2);
  ASSERT_OK_AND_ASSIGN(auto extended, client_->Call("fred", *client_->tasks,
                                                    &v1::TaskService::Stub::ExtendDeadline,
                                                    extend));
  EXPECT_GT(extended.clock().due_offset_seconds(), resumed.clock().due_offset_seconds());
  extend.set_request_id("extend-2");
  extend.mutable_by()->set_hours(0);
  EXPECT_CODE(client_->Call("fred", *client_->tasks, &v1::TaskService::Stub::ExtendDeadline,
                            extend),
              absl::StatusCode::kInvalidArgument);
  v1::ListTasksRequest before;
  before.mutable_due_before()->set_seconds(extended.task().due_at().seconds() + 1);
  ASSERT_OK_AND_ASSIGN(auto due_soon, client_->Call("ceo", *client_->tasks,
                                                    &v1::TaskService::Stub::ListTasks, before));
  ASSERT_EQ(due_soon.tasks_size(), 1);
  EXPECT_EQ(due_soon.tasks(0).id(), task);
  ExpectReplayMatchesStore(view.id());
}

}  // namespace
}  // namespace signoff::testing
